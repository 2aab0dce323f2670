"""Build the service's container image per environment, record it, and run it under podman.

`python -m imagebuild --env ENV` bakes ENV's latest model into two images (TensorFlow, and a
slim int8 one with LiteRT and OpenVINO) from a local Debian base and a wheelhouse, saves them as
OCI archives and writes `build/images/ENV.json`; `imagebuild.run` starts an image with a pod
spec's settings.
"""
