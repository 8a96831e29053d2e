"""Runs ONNX's checker (full_check: with strict shape inference) on every .onnx file in a folder.

Usage: /usr/bin/python3 scripts/onnx/check.py <folder>   (Debian's python3-onnx)
Exit status 1 if any file fails; each failure is printed with the checker's message.
"""
import pathlib
import sys

import onnx
import onnx.checker
import onnx.shape_inference


def main() -> int:
    folder = pathlib.Path(sys.argv[1])
    files = sorted(folder.glob("*.onnx"))
    failures = 0
    for path in files:
        try:
            model = onnx.load(str(path))
            onnx.checker.check_model(model, full_check=True)
            inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
            dim = lambda d: d.dim_value if d.HasField("dim_value") else (d.dim_param or "?")
            outputs = {o.name: [dim(d) for d in o.type.tensor_type.shape.dim] for o in inferred.graph.output}
            print(f"ok    {path.name}  opset {model.opset_import[0].version}, {len(model.graph.node)} nodes, outputs {outputs}")
        except Exception as e:  # the checker raises several exception types
            failures += 1
            print(f"FAIL  {path.name}: {type(e).__name__}: {e}")
    print(f"{len(files) - failures} of {len(files)} files pass onnx {onnx.__version__}'s checker")
    return 1 if failures or not files else 0


if __name__ == "__main__":
    sys.exit(main())
