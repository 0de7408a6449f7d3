"""Training side: TensorFlow, Keras, scikit-learn. Never shipped in the Lambda image."""
