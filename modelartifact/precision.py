"""bfloat16 inference of the SavedModel: the one TensorFlow switch that training measures
`saved_model.bf16_accuracy` with and the service's tensorflow-bf16 backend serves with."""


def set_onednn_bfloat16(enabled: bool) -> None:
    """oneDNN's auto mixed precision on or off: Grappler rewrites the graph's Conv2D/MatMul to
    bfloat16 and keeps softmax and the rest in float32. It holds for this whole process and every
    graph function called afterwards, already loaded ones too, so a process serves one precision.
    """
    import tensorflow as tf  # here: the slim image has no TensorFlow

    tf.config.optimizer.set_experimental_options({"auto_mixed_precision_onednn_bfloat16": enabled})
