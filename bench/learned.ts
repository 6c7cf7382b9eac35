/**
 * Error-vs-NFE tables of the blocks fitted on the user's model (GITS, DPM-Solver-v3, DC-Solver) on the exact
 * 8-Gaussian mixture of the golden runs. Run: `npx tsx bench/learned.ts` (about 20 s). The same tables are printed
 * and their orderings asserted by `npx mocha test/learned/*.test.ts`.
 */
import { dcTable, dpmv3Table, formatTable, gitsTable } from '../test/learned/table';

async function main(): Promise<void> {
  console.log(formatTable('GITS vs fixed schedules, Euler, RMSE to the exact ODE solution (16 test paths; fit on 16 other paths)', await gitsTable([4, 5, 6, 8, 10])));
  console.log();
  console.log(formatTable('DPM-Solver-v3 vs DPM-Solver++, logSNR-uniform steps 80 → 0.002 (EMS from 64 other paths, 1200 λ intervals)', await dpmv3Table([5, 6, 8, 10])));
  console.log();
  console.log(formatTable('DC-Solver vs UniPC (order 3, bh1), logSNR-uniform steps (ratios fitted on 16 other paths)', await dcTable([5, 6, 8])));
  console.log(formatTable('DC-Solver vs UniPC (order 3, bh2)', await dcTable([5, 6, 8], 'bh2')));
}

void main();
