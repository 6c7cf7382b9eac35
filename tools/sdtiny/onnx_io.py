"""ONNX export helpers: the export the way Optimum's `optimum-cli export onnx` does it (input/output names, dynamic
axes, output dims fixed after the export), a float16 conversion for `--dtype fp16`-style graphs, and saving with
external data.

- `export(module, args, path, inputs, outputs)`: torch.onnx.export (opset 17; Optimum now defaults to 18, which
  torch 1.13 cannot write) with `inputs` / `outputs` = ordered {name: {axis: dim_name}} as Optimum's OnnxConfig
  declares them, then every output dim that is not one of the declared dynamic axes is set to the traced
  concrete value (what Optimum's `fix_dynamic_axes` achieves), and declared ones get their declared name.
- `to_float16(model, keep_float32=('/time_proj',))`: every float tensor becomes float16 (initializers, Constant /
  ConstantOfShape values, Cast targets, graph inputs and outputs) except the nodes whose names start with one of
  `keep_float32` (torch names nodes after the module path, e.g. `/time_proj/Sin`): those compute in float32, and
  Cast nodes are inserted where a float16 tensor meets a float32 node and back. Resize's `scales` input stays
  float32 as ONNX requires. This is how a float16 model keeps diffusers' float32 timestep embedding.
- `save(model, path, external=False)`: onnx.save; with external=True all tensors larger than 100 bytes go to
  `<file>_data` next to it (Optimum's settings: one file, `size_threshold=100`, `convert_attribute=True`).
"""
import os

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
FLOAT, FLOAT16 = TensorProto.FLOAT, TensorProto.FLOAT16


def export(module, args: tuple, path: str, inputs: dict, outputs: dict) -> onnx.ModelProto:
    """Exports `module(*args)` and returns the loaded model with fixed output dims (not saved yet)."""
    module.eval()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + '.tmp.onnx'
    with torch.no_grad():
        traced = module(*args)
        torch.onnx.export(module, args, tmp, input_names=list(inputs), output_names=list(outputs),
                          dynamic_axes={**inputs, **outputs}, opset_version=OPSET, do_constant_folding=True)
    model = onnx.load(tmp)
    os.remove(tmp)
    for out, value in zip(model.graph.output, traced):
        axes = outputs[out.name]
        dims = out.type.tensor_type.shape.dim
        if len(dims) != value.dim():
            del dims[:]
            for _ in range(value.dim()):
                dims.add()
        for i, d in enumerate(dims):
            if i in axes:
                d.dim_param = axes[i]
            else:
                d.dim_value = int(value.shape[i])
    model.producer_name = 'dpipe tools/sdtiny'
    onnx.checker.check_model(model)
    return model


def _float_values(model: onnx.ModelProto) -> set:
    """Names of all float32 tensors (inputs, initializers, node outputs), from ONNX shape inference."""
    inferred = onnx.shape_inference.infer_shapes(model)
    g = inferred.graph
    out = set()
    for v in list(g.input) + list(g.output) + list(g.value_info):
        if v.type.tensor_type.elem_type == FLOAT:
            out.add(v.name)
    for t in g.initializer:
        if t.data_type == FLOAT:
            out.add(t.name)
    for n in g.node:
        if n.op_type == 'Constant':
            for a in n.attribute:
                if a.name == 'value' and a.t.data_type == FLOAT:
                    out.add(n.output[0])
    return out


# inputs that keep their type whatever the node's precision: (op_type, input index)
_FIXED_FLOAT32 = {('Resize', 2)}
_ANY_TYPE = {'Shape', 'Cast', 'Size'}


def to_float16(model: onnx.ModelProto, keep_float32=('/time_proj',)) -> onnx.ModelProto:
    g = model.graph
    floats = _float_values(model)
    keep = lambda node: any(node.name.startswith(p) for p in keep_float32)  # noqa: E731
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    dtype = {}  # float tensor name -> FLOAT or FLOAT16
    for v in g.input:
        if v.name in floats:
            dtype[v.name] = FLOAT16
            v.type.tensor_type.elem_type = FLOAT16
    for t in g.initializer:
        if t.name in floats:
            users = consumers.get(t.name, [])
            fixed = any((u.op_type, list(u.input).index(t.name)) in _FIXED_FLOAT32 for u in users)
            if fixed or (users and all(keep(u) for u in users)):
                dtype[t.name] = FLOAT
            else:
                t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16), t.name))
                dtype[t.name] = FLOAT16
    new_nodes = []
    counter = [0]

    def cast(name: str, to: int) -> str:
        counter[0] += 1
        out = f'{name}_as_{"f16" if to == FLOAT16 else "f32"}_{counter[0]}'
        new_nodes.append(helper.make_node('Cast', [name], [out], to=to, name=f'/fp16_cast_{counter[0]}'))
        dtype[out] = to
        return out

    for n in g.node:
        prec = FLOAT if keep(n) else FLOAT16
        for a in n.attribute:
            if n.op_type in ('Constant', 'ConstantOfShape') and a.name == 'value' and a.t.data_type == FLOAT and prec == FLOAT16:
                a.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(a.t).astype(np.float16), a.t.name))
            if n.op_type == 'Cast' and a.name == 'to' and a.i == FLOAT:
                a.i = prec
        if n.op_type not in _ANY_TYPE:
            for i, name in enumerate(n.input):
                if name in dtype:
                    want = FLOAT if (n.op_type, i) in _FIXED_FLOAT32 else prec
                    if dtype[name] != want:
                        n.input[i] = cast(name, want)
        for o in n.output:
            if o in floats:
                if n.op_type == 'Cast':
                    dtype[o] = next(a.i for a in n.attribute if a.name == 'to')
                else:
                    dtype[o] = prec
        new_nodes.append(n)
    outputs = {o.name for o in g.output}
    for o in g.output:
        if o.name in dtype:
            if dtype[o.name] != FLOAT16:
                # rename the producer's output and cast into the graph output name
                for n in new_nodes:
                    for i, x in enumerate(n.output):
                        if x == o.name:
                            n.output[i] = o.name + '_f32'
                    for i, x in enumerate(n.input):
                        if x == o.name:
                            n.input[i] = o.name + '_f32'
                new_nodes.append(helper.make_node('Cast', [o.name + '_f32'], [o.name], to=FLOAT16,
                                                  name=f'/fp16_out_{o.name}'))
            o.type.tensor_type.elem_type = FLOAT16
    del g.node[:]
    g.node.extend(new_nodes)
    del g.value_info[:]
    assert outputs == {o.name for o in g.output}
    onnx.checker.check_model(model)
    return model


def save(model: onnx.ModelProto, path: str, external: bool = False) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = path + '_data'
    if os.path.exists(data):
        os.remove(data)
    if external:
        copy = onnx.ModelProto()
        copy.CopyFrom(model)  # save_model moves the tensors of the model it is given out to the data file
        onnx.save_model(copy, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(data), size_threshold=100, convert_attribute=True)
    else:
        onnx.save_model(model, path)
