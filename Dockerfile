# The Lambda container image: the serving code and the model on the official Lambda base image.
# Default: Python 3.13 (Amazon Linux 2023) + ai-edge-litert.
# Legacy:  docker build --build-arg PYTHON_VERSION=3.11 \
#            --build-arg REQUIREMENTS=requirements/lambda-legacy.txt .
#          (tflite-runtime 2.14 on Amazon Linux 2, whose support ended 2026-06-30)
ARG PYTHON_VERSION=3.13
FROM public.ecr.aws/lambda/python:${PYTHON_VERSION}

ARG REQUIREMENTS=requirements/lambda.txt

# Dependencies first (their layer survives code and model changes). boto3 comes with the base
# image. docker/prune.txt lists parts of the wheels serving never loads (GPU and NPU plug-ins).
# The task root is read-only in Lambda, so the bytecode is compiled here, by the image's Python.
COPY ${REQUIREMENTS} /tmp/requirements.txt
COPY docker/prune.py docker/prune.txt /tmp/prune/
RUN python3 -m pip install --no-cache-dir --no-compile -r /tmp/requirements.txt \
        --target "${LAMBDA_TASK_ROOT}" \
    && python3 /tmp/prune/prune.py "${LAMBDA_TASK_ROOT}" /tmp/prune/prune.txt \
    && python3 -m compileall -q -j 0 "${LAMBDA_TASK_ROOT}" \
    && rm -r /tmp/requirements.txt /tmp/prune

COPY model/cervical_fracture.tflite model/model.json ${LAMBDA_TASK_ROOT}/model/
COPY inference/ ${LAMBDA_TASK_ROOT}/inference/
COPY lambda_function.py ${LAMBDA_TASK_ROOT}/
RUN python3 -m compileall -q "${LAMBDA_TASK_ROOT}/lambda_function.py" "${LAMBDA_TASK_ROOT}/inference"

CMD ["lambda_function.lambda_handler"]
