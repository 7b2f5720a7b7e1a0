"""The shared core of deepfake-detector: what training, the predict command, the server and bulk scans share.

One module per concern: `media` (decoding), `faces` (detection and the square crop), `preprocess` (model input),
`scoring` with its runtimes `torch_runtime` and `onnx_runtime`, `analysis` (crops scored in one batch, the
most-fake face deciding), `checkpoint`/`checkpoint_meta`/`models` (self-describing models), `constants`, `errors`,
`cli` (what every command shares). Imports flow backend -> pipeline <- training, commands; this package imports none
of them.
"""
