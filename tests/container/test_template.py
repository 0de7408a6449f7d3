"""template.yaml agrees with the Dockerfile and the code; `sam validate --lint` accepts it."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
import yaml

from scripts.lambda_image import ROOT

SAM = ROOT / ".venv-sam" / "bin" / "sam"
API_GATEWAY_TIMEOUT_S = 29


class CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !Sub ...) read as {"Fn::X": value}."""


def _tag(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CloudFormationLoader.add_multi_constructor("!", _tag)


@pytest.fixture(scope="module")
def template():
    return yaml.load((ROOT / "template.yaml").read_text(), Loader=CloudFormationLoader)


@pytest.fixture(scope="module")
def function(template):
    functions = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"
    ]
    assert len(functions) == 1
    return functions[0]


def test_function_is_built_from_the_dockerfile(function, recipe):
    assert function["Properties"]["PackageType"] == "Image"
    metadata = function["Metadata"]
    assert (ROOT / metadata["DockerContext"] / metadata["Dockerfile"]) == ROOT / "Dockerfile"
    assert f"python{recipe.python_version}" in metadata["DockerTag"]
    assert "ImageConfig" not in function["Properties"], "the Dockerfile's CMD names the handler"


def test_timeout_fits_under_api_gateway(function):
    assert 0 < function["Properties"]["Timeout"] < API_GATEWAY_TIMEOUT_S
    assert function["Properties"]["MemorySize"] >= 512


def test_environment_variables_are_ones_the_code_reads(function):
    code = (ROOT / "lambda_function.py").read_text()
    code += "".join(p.read_text() for p in (ROOT / "inference").glob("*.py"))
    for name in function["Properties"]["Environment"]["Variables"]:
        assert re.search(rf"[\"']{name}[\"']", code), f"nothing reads {name}"


def test_api_routes_and_binary_media_types(template):
    api = next(r for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi")
    paths = api["Properties"]["Body"]["paths"]
    routes = {(path, method) for path, methods in paths.items() for method in methods}
    assert routes == {("/predict", "post"), ("/health", "get")}
    for methods in paths.values():
        for operation in methods.values():
            integration = operation["x-amazon-apigateway-integration"]
            assert integration["type"] == "aws_proxy"
            assert "${FractureFunction.Arn}" in integration["uri"]["Fn::Sub"]
    assert set(api["Properties"]["BinaryMediaTypes"]) == {"image/png", "image/jpeg"}


def test_s3_read_policy_only_when_buckets_are_given(template, function):
    assert template["Conditions"]["HasAllowedS3Buckets"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AllowedS3Buckets"}, ""]}]
    }
    (policy,) = function["Properties"]["Policies"]
    condition, statement_doc, otherwise = policy["Fn::If"]
    assert condition == "HasAllowedS3Buckets" and otherwise == {"Ref": "AWS::NoValue"}
    (statement,) = statement_doc["Statement"]
    assert statement["Action"] == "s3:GetObject"
    assert function["Properties"]["Environment"]["Variables"]["ALLOWED_S3_BUCKETS"] == {
        "Ref": "AllowedS3Buckets"
    }


RESOLVE_POLICY_RESOURCE = """
import json, sys
from samcli.lib.intrinsic_resolver.intrinsic_property_resolver import IntrinsicResolver
from samcli.lib.intrinsic_resolver.intrinsics_symbol_table import IntrinsicsSymbolTable
from samtranslator.yaml_helper import yaml_parse
template = yaml_parse(open(sys.argv[1]).read())
policy = template["Resources"]["FractureFunction"]["Properties"]["Policies"][0]["Fn::If"][1]
buckets = {"AllowedS3Buckets": sys.argv[2]}
table = IntrinsicsSymbolTable(template=template, logical_id_translator=buckets)
resolver = IntrinsicResolver(template=template, symbol_resolver=table)
print(json.dumps(resolver.intrinsic_property_resolver(policy["Statement"][0]["Resource"], False)))
"""


@pytest.mark.parametrize(
    ("buckets", "arns"),
    [
        ("ct-scans", ["arn:aws:s3:::ct-scans/*"]),
        # (no dots here: SAM CLI's local resolver mangles "${Joined}" when the value has one)
        ("ct-scans,archive-2026", ["arn:aws:s3:::ct-scans/*", "arn:aws:s3:::archive-2026/*"]),
    ],
)
def test_s3_policy_grants_exactly_the_named_buckets(buckets, arns):
    """SAM CLI's own intrinsic resolver evaluates the policy's Split/Sub/Join for the buckets."""
    python = ROOT / ".venv-sam" / "bin" / "python"
    command = [str(python), "-c", RESOLVE_POLICY_RESOURCE, str(ROOT / "template.yaml"), buckets]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == arns


def test_optional_auth_and_throttling_are_parameters(template):
    parameters = template["Parameters"]
    for name in ("RequireApiKey", "RequireIamAuth"):
        assert parameters[name]["Default"] == "false"
    for name in ("ThrottlingRateLimit", "ThrottlingBurstLimit", "LogRetentionDays"):
        assert parameters[name]["Type"] == "Number"
    resources = template["Resources"]
    api = resources["FractureApi"]["Properties"]["Body"]
    for methods in api["paths"].values():
        for operation in methods.values():
            assert operation["security"] == [
                {"Fn::If": ["UseApiKey", {"api_key": []}, {"Ref": "AWS::NoValue"}]}
            ]
            assert operation["x-amazon-apigateway-auth"] == {
                "type": {"Fn::If": ["UseIamAuth", "AWS_IAM", "NONE"]}
            }
    (settings,) = resources["FractureApiStage"]["Properties"]["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}
    for name in ("FractureApiKey", "FractureUsagePlan", "FractureUsagePlanKey"):
        assert resources[name]["Condition"] == "UseApiKey"
    assert {"PredictUrl", "HealthUrl"} <= set(template["Outputs"])


def test_reserved_concurrency_is_an_optional_cost_ceiling(template):
    assert template["Parameters"]["ReservedConcurrency"]["Default"] == 0
    function = template["Resources"]["FractureFunction"]["Properties"]
    assert function["ReservedConcurrentExecutions"] == {
        "Fn::If": [
            "HasReservedConcurrency",
            {"Ref": "ReservedConcurrency"},
            {"Ref": "AWS::NoValue"},
        ]
    }


def sam_validate(path):
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    command = [str(SAM), "validate", "--lint", "--template-file", str(path)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def test_sam_validate_lint_passes():
    assert SAM.exists(), "run `make setup-sam`"
    result = sam_validate(ROOT / "template.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_validate_lint_catches_a_broken_template(tmp_path):
    broken = tmp_path / "template.yaml"
    text = (ROOT / "template.yaml").read_text()
    broken.write_text(text.replace("RetentionInDays:", "RetentionDays:", 1))
    result = sam_validate(broken)
    assert result.returncode != 0
