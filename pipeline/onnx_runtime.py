"""ONNX export of a checkpoint, and a classifier running that graph (on OpenVINO or ONNX Runtime) with the same
interface as `Classifier`.

The ONNX file carries the checkpoint's metadata in `metadata_props`: `deepfake_detector.meta` (the CheckpointMeta
fields as JSON) and `deepfake_detector.checkpoint_version` (the short hash of the .pt it was exported from), so a
server can tell whether a sibling `NAME.onnx` still matches `NAME.pt`.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import sys
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import constants as C
from .checkpoint_meta import CheckpointMeta, file_hash
from .errors import CheckpointError
from .scoring import Scorer
from .system import available_cpus

logger = logging.getLogger(__name__)

# ONNX Runtime 1.32 writes a telemetry session file (.ses) to the temp folder when imported; the server promises
# to write nothing to disk, and nothing here should report anywhere. Set before the first `import onnxruntime`.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

META_KEY = "deepfake_detector.meta"
VERSION_KEY = "deepfake_detector.checkpoint_version"
INPUT_NAME = "input"
OUTPUT_NAME = "logits"
OPSET = 17
# Engines that run an exported ONNX graph on the CPU, fastest first. OpenVINO's kernels score the default model
# about 1.35x faster than ONNX Runtime on x86 (benchmarks/model_latency.py); ONNX Runtime is the fallback everywhere.
ENGINES: tuple[str, ...] = tuple(C.RUNTIME_ENGINES.values())


def export_onnx_bytes(model, meta: CheckpointMeta, checkpoint_version: str, opset: int = OPSET) -> bytes:
    """The ONNX model (dynamic batch axis, float32, metadata inside) of an eval-mode torch model, built in memory."""
    import onnx
    import torch

    model = model.float().eval().cpu()
    example = torch.zeros(1, 3, meta.image_size, meta.image_size)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The TorchScript-based exporter is deprecated in favour of dynamo=True (which needs onnxscript); it is
        # kept on purpose: it is exact for these CNNs, needs no extra package, and exports in < 1 s.
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (example,), buffer, dynamo=False, input_names=[INPUT_NAME],
                          output_names=[OUTPUT_NAME], dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
                          opset_version=opset, do_constant_folding=True)
    proto = onnx.load_from_string(buffer.getvalue())
    onnx.helper.set_model_props(proto, {META_KEY: json.dumps(meta.to_dict(), default=str), VERSION_KEY: checkpoint_version})
    return proto.SerializeToString()


def read_onnx_metadata(source: bytes | Path) -> dict[str, str]:
    """The metadata_props of an ONNX file or bytes (without loading weights into a session)."""
    import onnx

    proto = onnx.load_from_string(source) if isinstance(source, bytes) else onnx.load(str(source), load_external_data=False)
    return {prop.key: prop.value for prop in proto.metadata_props}


def meta_from_onnx(metadata: dict[str, str]) -> CheckpointMeta:
    """The CheckpointMeta stored in an exported ONNX file; CheckpointError if it has none."""
    if META_KEY not in metadata:
        raise CheckpointError(f"ONNX file has no {META_KEY} metadata (not exported by training.export_onnx)")
    fields = json.loads(metadata[META_KEY])
    return CheckpointMeta(**{k: fields[k] for k in CheckpointMeta.__dataclass_fields__ if k in fields})


def create_session(model_bytes: bytes | str, threads: int | None = None):
    """An ONNX Runtime CPU session: full graph optimisation, `threads` intra-op threads (default: every core)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = max(1, threads or available_cpus())
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Without this each session spins its worker threads after every run, stealing CPU from the other workers.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model_bytes, sess_options=options, providers=["CPUExecutionProvider"])


@functools.cache
def openvino_core() -> Any:
    """The process's one OpenVINO Core, never released: a Core going away unloads the CPU plugin, and code that
    had linked to it then crashes later (a segfault in the next forked DataLoader, seen in the test suite)."""
    # `import openvino` loads its model converter, which starts openvino-telemetry when installed (a client id
    # written to ~/intel, usage statistics sent): the converter's own stand-in, used without it, does neither.
    sys.modules.setdefault("openvino_telemetry", None)
    import openvino

    return openvino.Core()


class OpenVinoSession:
    """An ONNX graph compiled by OpenVINO for the CPU, answering ONNX Runtime's `run(output_names, feeds)`."""

    def __init__(self, model: bytes | str, threads: int | None = None):
        core = openvino_core()
        config = {
            "INFERENCE_NUM_THREADS": max(1, threads or available_cpus()),
            "NUM_STREAMS": 1,
            "PERFORMANCE_HINT": "LATENCY",
            # bfloat16, OpenVINO's default on CPUs that have it, would move every score off the calibrated threshold
            "INFERENCE_PRECISION_HINT": "f32",
            # Pinned threads of several gunicorn workers would pile onto the same cores
            "ENABLE_CPU_PINNING": False,
        }
        self.compiled = core.compile_model(core.read_model(model), "CPU", config)
        # One request, one caller at a time: with one stream, parallel requests would only queue inside OpenVINO,
        # and requests created while others run can deadlock it (seen with 8 threads).
        self.request = self.compiled.create_infer_request()
        self.lock = threading.Lock()

    def run(self, output_names: list[str], feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        """The named outputs for the fed inputs (copies, safe to keep)."""
        with self.lock:
            results = self.request.infer(feeds)
            return [np.array(results[name]) for name in output_names]


def open_session(model: bytes | str, threads: int | None, engine: str, image_size: int) -> tuple[Any, str]:
    """(session, engine used), having scored one blank input: OpenVINO when asked and it compiles and runs the graph,
    else ONNX Runtime (logged). So the first inference's set-up is paid at load, not in somebody's request."""
    if engine not in ENGINES:
        raise ValueError(f"Unknown ONNX engine {engine!r}: use one of {', '.join(ENGINES)}")
    if engine == "openvino":
        try:
            return warmed_up(OpenVinoSession(model, threads), image_size), "openvino"
        except Exception as error:  # not installed, no build for this CPU, an operator it lacks: ONNX Runtime can
            logger.warning("OpenVINO unavailable (%s: %s); scoring with ONNX Runtime", error.__class__.__name__,
                           (str(error).splitlines() or [""])[0])
    return warmed_up(create_session(model, threads), image_size), "onnxruntime"


def warmed_up(session: Any, image_size: int) -> Any:
    """The session after one inference on a blank 1x3xSxS input (raising whatever that inference raises)."""
    session.run([OUTPUT_NAME], {INPUT_NAME: np.zeros((1, 3, image_size, image_size), dtype=np.float32)})
    return session


@dataclass
class OnnxClassifier(Scorer):
    """A checkpoint's ONNX graph, on OpenVINO or ONNX Runtime: same preprocessing, calibration and interface as
    `Classifier`."""

    session: Any
    meta: CheckpointMeta
    name: str
    version: str
    source: str = "memory"  # "memory" (exported at load) or the path of the sibling .onnx file
    runtime: str = "onnxruntime"  # which of ENGINES runs the graph

    @classmethod
    def from_checkpoint(cls, path: Path, classifier: Any = None, name: str | None = None,
                        threads: int | None = None, engine: str = "onnxruntime") -> "OnnxClassifier":
        """Use the sibling NAME.onnx when it was exported from this exact checkpoint (without PyTorch), else export
        in memory.

        `classifier` is the checkpoint's torch_runtime.Classifier when the caller already loaded it.
        """
        path = Path(path)
        sibling = cls.from_sibling(path, threads, engine)
        if sibling is not None:
            if name:
                sibling.name = name
            return sibling
        from .torch_runtime import Classifier

        classifier = classifier or Classifier.from_checkpoint(path, name=name)
        model_bytes = export_onnx_bytes(classifier.model, classifier.meta, classifier.version)
        session, used = open_session(model_bytes, threads, engine, classifier.meta.image_size)
        return cls(session, classifier.meta, classifier.name, classifier.version, runtime=used)

    @classmethod
    def from_sibling(cls, path: Path, threads: int | None = None,
                     engine: str = "onnxruntime") -> "OnnxClassifier | None":
        """The checkpoint's sibling NAME.onnx when it was exported from exactly these bytes; else None (logged when
        a sibling is there but stale or broken)."""
        sibling = Path(path).with_suffix(".onnx")
        if not sibling.is_file():
            return None
        try:
            if read_onnx_metadata(sibling).get(VERSION_KEY) == file_hash(path):
                return cls.from_onnx(sibling, threads, engine)
            logger.warning("%s was exported from another checkpoint; exporting %s in memory", sibling, path.name)
        except Exception as error:  # a broken sibling must not stop the server: export instead
            logger.warning("Cannot use %s (%s); exporting %s in memory", sibling, error.__class__.__name__, path.name)
        return None

    @classmethod
    def from_onnx(cls, path: Path, threads: int | None = None, engine: str = "onnxruntime") -> "OnnxClassifier":
        """Load an exported ONNX file on its own (no PyTorch model needed)."""
        path = Path(path)
        metadata = read_onnx_metadata(path)
        meta = meta_from_onnx(metadata)
        session, used = open_session(str(path), threads, engine, meta.image_size)
        return cls(session, meta, path.stem, metadata.get(VERSION_KEY, file_hash(path)), str(path), used)

    def logits(self, batch: Any) -> np.ndarray:
        """Raw logits (classes, then kinds) for a preprocessed float32 NCHW batch (NumPy, or a CPU tensor)."""
        (logits,) = self.session.run([OUTPUT_NAME], {INPUT_NAME: np.ascontiguousarray(batch, dtype=np.float32)})
        return logits
