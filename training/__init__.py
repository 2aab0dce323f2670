"""Training pipeline: data → model → train → evaluate → export → optimise, per environment."""

# ai_edge_litert must load before TensorFlow: both register the same pybind11 type and whichever
# comes second aborts the process, so the package that uses both pins the order here.
import ai_edge_litert.interpreter  # noqa: F401
