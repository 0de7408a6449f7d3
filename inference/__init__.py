"""Serving side: everything the Lambda image runs. Never imports TensorFlow or `training`."""
