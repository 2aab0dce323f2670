"""What a model version takes as input, for its writer and its server alike."""

# The encoded image formats: training decodes these (training/input_pipeline.decode) to the same
# pixels as the service (service/imaging.py), and refuses a data set with any other.
IMAGE_FORMATS = ("JPEG", "PNG")
