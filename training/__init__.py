"""Training pipeline: data → model → train → evaluate → export → optimise, per environment."""

import os

# TensorFlow's C++ INFO and WARNING lines would bury Keras progress and one-line errors;
# setdefault keeps a person's own choice.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# ai_edge_litert must load before TensorFlow: both register the same pybind11 type and whichever
# comes second aborts the process, so the package that uses both pins the order here.
import ai_edge_litert.interpreter  # noqa: F401
