#!/usr/bin/env bash
# The README's FD-MNIST numbers for the trained demo UNet. Run from the repository root after training/export:
#   bash tools/train/measure.sh 2>&1 | tee tools/train/runs/numbers.txt
# (about 30–40 minutes on 2 CPU cores). Each line below is the exact command behind one number.
set -euo pipefail
cd "$(dirname "$0")/../.."
node scripts/build.mjs >/dev/null
P=tools/train/pipelines
run() { echo "\$ dpipe $*"; node dist/cli.js "$@" -q; echo; }
# FD of 1,000 samples, guidance 1 (conditional model), 3 seed ranges each
run eval $P/ddim.dpipe --samples 1000 --repeats 3 --set sched.steps=50
run eval $P/ddim.dpipe --samples 1000 --repeats 3 --set sched.steps=10
run eval $P/dpmpp-2m-karras.dpipe --samples 1000 --repeats 3 --set sched.steps=10
# class accuracy at guidance 1, 3, 7 with 25 DDIM steps
for w in 1 3 7; do run eval $P/ddim.dpipe --samples 1000 --set sched.steps=25 --set guider.scale=$w; done
# one model call
echo "\$ node tools/train/bench-call.mjs"; node tools/train/bench-call.mjs
