"""The deployable stack's protections, asserted on template.yaml and on its offline
translation by aws-sam-translator (what CloudFormation would receive): the table's
safeguards, an authorizer on every non-public route, least-privilege roles, an alarm on
every function, the dashboard's figures. Generic where it matters, so functions and
routes added later are held to the same rules."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from samtranslator.translator.transform import transform

from census_ops.register import RegisterHousehold
from census_ops.template import REPO_ROOT, load_template
from tests.conftest import submission_body

# The residents' routes: KK + NIK in the body (or a receipt code) is their proof, so
# API Gateway lets them through. Every other route must name the Cognito authorizer.
PUBLIC_ROUTES = {
    ("POST", "/v1/households/{kk}/responses"),
    ("GET", "/v1/receipts/{receipt_code}"),
    ("POST", "/v1/households/{kk}/status"),
    ("GET", "/v1/receipts/{receipt_code}/proof"),
    # Residents' sessions: the functions check the session token themselves (shared/sessions.py).
    ("POST", "/v1/sessions"),
    ("GET", "/v1/session/household"),
    ("PUT", "/v1/session/household/draft"),
    # Households the register missed: anyone may report, look a report up, read the area lists.
    ("POST", "/v1/reports"),
    ("GET", "/v1/reports/{reference}"),
    ("GET", "/v1/areas"),
    ("GET", "/v1/areas/{area_code}/children"),
}
AUTHORIZER = "CognitoAuthorizer"
# AWS-managed policies SAM attaches; each grants named actions only (no "*" action):
# CloudWatch Logs writes, X-Ray segment writes, and the SQS poller's receive/delete.
MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
}
READ_ACTIONS = {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem"}
ALARM_ACTIONS = [{"Fn::If": ["CreateAlarmTopic", {"Ref": "AlarmTopic"}, {"Ref": "AlarmTopicArn"}]}]


class _NoManagedPolicies:
    """SAM asks for managed-policy names only when Policies names one; this template does not."""

    def load(self) -> dict[str, str]:
        return {}


def translate(template: dict[str, Any]) -> dict[str, Any]:
    """What `sam deploy` sends CloudFormation, offline: CodeUri/ContentUri as `sam package`
    rewrites them, then SAM's own transform."""
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties") or {}
        if resource["Type"] == "AWS::Serverless::Function":
            properties["CodeUri"] = f"s3://artifacts/{name}.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            properties["ContentUri"] = f"s3://artifacts/{name}.zip"
    return transform(
        template,
        {"AWS::Region": "ap-southeast-3", "ResidentWebOrigin": "https://census.example.org"},
        _NoManagedPolicies(),  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    return translate(load_template())


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def _api_events(template: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, function in _of_type(template, "AWS::Serverless::Function").items():
        for event_name, event in (function["Properties"].get("Events") or {}).items():
            if event["Type"] == "Api":
                yield name, event_name, event["Properties"]


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement.get("Action", [])
    return [actions] if isinstance(actions, str) else list(actions)


# ---------------------------------------------------------------- translation


def test_the_template_translates_offline(cfn: dict[str, Any]) -> None:
    types = {r["Type"] for r in cfn["Resources"].values()}
    assert {
        "AWS::Lambda::Function",
        "AWS::Lambda::LayerVersion",
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGateway::Stage",
        "AWS::IAM::Role",
        "AWS::DynamoDB::Table",
    } <= types
    assert not any(t.startswith("AWS::Serverless::") for t in types)


# ---------------------------------------------------------------- the table


def test_the_table_is_protected(template: dict[str, Any]) -> None:
    table = template["Resources"]["CensusTable"]
    assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"
    properties = table["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["DeletionProtectionEnabled"] is True
    assert properties["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": {"Ref": "TableKey"},
    }
    key = template["Resources"]["TableKey"]
    assert key["DeletionPolicy"] == "Retain" and key["UpdateReplacePolicy"] == "Retain"
    assert key["Properties"]["EnableKeyRotation"] is True


def test_ttl_is_on_the_attribute_idempotency_and_lockout_records_expire_by(template: dict[str, Any]) -> None:
    from shared.store import GuessCounter, IdempotencyRecord

    ttl = template["Resources"]["CensusTable"]["Properties"]["TimeToLiveSpecification"]
    assert ttl["Enabled"] is True
    assert ttl["AttributeName"] == IdempotencyRecord.expires_at.attr_name == GuessCounter.expires_at.attr_name


def _principals(statement: dict[str, Any]) -> list[Any]:
    principal = statement["Principal"]
    if principal == "*":
        return ["*"]
    found: list[Any] = []
    for value in principal.values():
        found.extend(value if isinstance(value, list) else [value])
    return found


def test_the_key_grants_no_wildcard_principal_and_each_service_under_a_condition(template: dict[str, Any]) -> None:
    root = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    services: dict[str, dict[str, Any]] = {}
    for statement in _statements(template["Resources"]["TableKey"]["Properties"]["KeyPolicy"]):
        assert statement["Effect"] == "Allow"
        assert "*" not in _principals(statement), statement["Sid"]  # not even with a condition
        if any("*" in action for action in _actions(statement)):
            assert statement["Sid"] == "AccountAdministersTheKeyThroughIam"
            assert statement["Principal"] == {"AWS": root}
        else:
            assert "AWS" not in statement["Principal"], statement["Sid"]  # roles get it through IAM
            (service,) = _principals(statement)
            services[json.dumps(service)] = statement
            assert statement["Condition"], statement["Sid"]
    logs = services[json.dumps({"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"})]
    context = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert all("${AWS::StackName}-*" in c["Fn::Sub"] for c in context)
    assert {'"dynamodb.amazonaws.com"', '"cloudwatch.amazonaws.com"'} <= set(services)


def _function_policy_statements(cfn: dict[str, Any], function: str) -> list[dict[str, Any]]:
    role = cfn["Resources"][cfn["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]]
    return [s for policy in role["Properties"].get("Policies", []) for s in _statements(policy["PolicyDocument"])]


def test_functions_use_the_key_only_through_the_services_they_call(cfn: dict[str, Any]) -> None:
    for name in _of_type(cfn, "AWS::Lambda::Function"):
        statements = [
            s for s in _function_policy_statements(cfn, name) if any(a.startswith("kms:") for a in _actions(s))
        ]
        assert statements, f"{name}: cannot use the table's key"
        for statement in statements:
            assert statement["Resource"] == {"Fn::GetAtt": ["TableKey", "Arn"]}, name
            assert statement["Condition"]["StringEquals"]["kms:ViaService"], name


# ---------------------------------------------------------------- encryption and logs


def test_everything_that_holds_data_is_encrypted_with_the_stacks_key(template: dict[str, Any]) -> None:
    key, key_arn = {"Ref": "TableKey"}, {"Fn::GetAtt": ["TableKey", "Arn"]}
    queues = _of_type(template, "AWS::SQS::Queue")
    assert len(queues) >= 3
    for name, queue in queues.items():
        assert queue["Properties"].get("KmsMasterKeyId") == key, name
        assert "SqsManagedSseEnabled" not in queue["Properties"], name
    for name, topic in _of_type(template, "AWS::SNS::Topic").items():
        assert topic["Properties"].get("KmsMasterKeyId") == key, name
    groups = _of_type(template, "AWS::Logs::LogGroup")
    assert len(groups) > len(_of_type(template, "AWS::Serverless::Function"))
    for name, group in groups.items():
        assert group["Properties"].get("KmsKeyId") == key_arn, name
        assert group["Properties"].get("RetentionInDays") == {"Ref": "LogRetentionDays"}, name
    secrets = _of_type(template, "AWS::SecretsManager::Secret")
    assert secrets
    for name, secret in secrets.items():
        assert secret["Properties"].get("KmsKeyId") == key, name


def test_each_function_logs_to_its_own_encrypted_group_named_as_lambda_would(template: dict[str, Any]) -> None:
    assert "LoggingConfig" not in template["Globals"]["Function"]
    seen = set()
    for name, function in _of_type(template, "AWS::Serverless::Function").items():
        p = function["Properties"]
        group_name = p["LoggingConfig"]["LogGroup"]["Ref"]
        seen.add(group_name)
        group = template["Resources"][group_name]["Properties"]
        assert group["LogGroupName"] == {"Fn::Sub": "/aws/lambda/" + p["FunctionName"]["Fn::Sub"]}, name
    assert len(seen) == len(_of_type(template, "AWS::Serverless::Function"))


def test_the_api_keeps_a_json_access_log_without_personal_data(template: dict[str, Any], cfn: dict[str, Any]) -> None:
    setting = template["Resources"]["CensusApi"]["Properties"]["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    fields = json.loads(setting["Format"])
    assert {"requestId", "ip", "resourcePath", "status", "latency"} <= set(fields)
    assert fields["resourcePath"] == "$context.resourcePath"  # the route template, never the KK
    for forbidden in ("$context.path", "$input", "body", "querystring", "$context.requestOverride", "header"):
        assert forbidden not in setting["Format"], forbidden
    (stage,) = _of_type(cfn, "AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["AccessLogSetting"] == setting
    account = _of_type(template, "AWS::ApiGateway::Account")
    assert next(iter(account.values()))["Properties"]["CloudWatchRoleArn"]
    assert template["Resources"]["CensusApi"]["DependsOn"] == next(iter(account))


def _skips(resource: dict[str, Any]) -> dict[str, str]:
    skips = ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip", [])
    return {skip["id"]: skip["comment"] for skip in skips}


def _is_tls_only(template: dict[str, Any], bucket: str) -> bool:
    for policy in _of_type(template, "AWS::S3::BucketPolicy").values():
        if policy["Properties"]["Bucket"] != {"Ref": bucket}:
            continue
        for statement in _statements(policy["Properties"]["PolicyDocument"]):
            if statement["Effect"] == "Deny" and statement.get("Condition") == {
                "Bool": {"aws:SecureTransport": "false"}
            }:
                return True
    return False


def _check_log_bucket(template: dict[str, Any], name: str) -> None:
    bucket = template["Resources"][name]
    p = bucket["Properties"]
    assert all(p["PublicAccessBlockConfiguration"].values()) and len(p["PublicAccessBlockConfiguration"]) == 4
    assert _is_tls_only(template, name)
    assert any(r["Status"] == "Enabled" and r.get("ExpirationInDays") for r in p["LifecycleConfiguration"]["Rules"])
    assert "LoggingConfiguration" not in p and "itself" in _skips(bucket)["CKV_AWS_18"]


def test_every_bucket_logs_access_to_a_log_bucket_that_is_private_tls_only_and_expires(
    template: dict[str, Any],
) -> None:
    _check_log_bucket(template, "LogBucket")
    others = {n: b for n, b in _of_type(template, "AWS::S3::Bucket").items() if n != "LogBucket"}
    assert others
    for name, bucket in others.items():
        assert bucket["Properties"]["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "LogBucket"}, name
        assert _is_tls_only(template, name), name


def test_the_distribution_logs_and_requires_tls_12_under_its_conditions(template: dict[str, Any]) -> None:
    config = template["Resources"]["SiteDistribution"]["Properties"]["DistributionConfig"]
    condition, logging, otherwise = config["Logging"]["Fn::If"]
    assert condition == "HasSiteLogBucket" and logging["Bucket"] == {"Ref": "SiteLogBucket"}
    assert otherwise == {"Ref": "AWS::NoValue"}
    condition, own, default = config["ViewerCertificate"]["Fn::If"]
    assert condition == "HasSiteDomain"
    assert own == {
        "AcmCertificateArn": {"Ref": "SiteCertificateArn"},
        "SslSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }
    assert default == {"CloudFrontDefaultCertificate": True}
    refs = json.dumps(template["Conditions"]["HasSiteDomain"])
    assert '"SiteDomainName"' in refs and '"SiteCertificateArn"' in refs
    assert config["Aliases"]["Fn::If"][0] == "HasSiteDomain"
    for behaviour in [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]:
        assert behaviour["ViewerProtocolPolicy"] in {"https-only", "redirect-to-https"}


# ---------------------------------------------------------------- the session signing secret


def test_no_function_configuration_holds_the_signing_key(cfn: dict[str, Any]) -> None:
    holders = set()
    for name, function in _of_type(cfn, "AWS::Lambda::Function").items():
        env = function["Properties"]["Environment"]["Variables"]
        assert "SESSION_SIGNING_KEY" not in env, name
        assert "resolve:secretsmanager" not in json.dumps(env), name
        if "SESSION_SIGNING_SECRET_ARN" in env:
            assert env["SESSION_SIGNING_SECRET_ARN"] == {"Ref": "SessionSigningKey"}, name
            holders.add(name)
    assert holders == {"IntakeFunction", "StatusFunction", "SessionsFunction"}


def test_only_the_functions_that_check_sessions_may_read_the_one_secret(cfn: dict[str, Any]) -> None:
    readers = set()
    for name, function in _of_type(cfn, "AWS::Lambda::Function").items():
        env = function["Properties"]["Environment"]["Variables"]
        statements = _function_policy_statements(cfn, name)
        for statement in statements:
            secrets = [a for a in _actions(statement) if a.startswith("secretsmanager:")]
            if secrets:
                assert secrets == ["secretsmanager:GetSecretValue"], name
                assert statement["Resource"] == {"Ref": "SessionSigningKey"}, name
                readers.add(name)
        via = json.dumps([s.get("Condition") for s in statements])
        assert ("secretsmanager." in via) == ("SESSION_SIGNING_SECRET_ARN" in env), name
    assert readers == {
        n
        for n, f in _of_type(cfn, "AWS::Lambda::Function").items()
        if "SESSION_SIGNING_SECRET_ARN" in f["Properties"]["Environment"]["Variables"]
    }


# ---------------------------------------------------------------- the API


def test_every_route_is_public_or_behind_the_cognito_authorizer(template: dict[str, Any]) -> None:
    seen: set[tuple[str, str]] = set()
    for function, event, properties in _api_events(template):
        route = (properties["Method"].upper(), properties["Path"])
        seen.add(route)
        authorizer = (properties.get("Auth") or {}).get("Authorizer")
        if route in PUBLIC_ROUTES:
            assert authorizer in (None, "NONE"), f"{function}.{event}: a public route with {authorizer}"
        else:
            assert authorizer == AUTHORIZER, f"{function}.{event} {route}: neither public nor behind {AUTHORIZER}"
    assert seen >= PUBLIC_ROUTES, f"PUBLIC_ROUTES names routes the template lacks: {PUBLIC_ROUTES - seen}"
    assert len(seen) > len(PUBLIC_ROUTES), "no guarded route to check"
    auth = template["Resources"]["CensusApi"]["Properties"]["Auth"]
    assert "DefaultAuthorizer" not in auth  # a route is guarded by saying so, checked above
    assert auth["Authorizers"][AUTHORIZER]["UserPoolArn"] == {"Fn::GetAtt": ["StaffUserPool", "Arn"]}


def test_the_deployed_api_guards_the_same_methods(cfn: dict[str, Any]) -> None:
    body = cfn["Resources"]["CensusApi"]["Properties"]["Body"]
    definition = body["securityDefinitions"][AUTHORIZER]
    assert definition["x-amazon-apigateway-authtype"] == "cognito_user_pools"
    guarded = 0
    for path, operations in body["paths"].items():
        for method, operation in operations.items():
            assert "x-amazon-apigateway-integration" in operation, f"{method} {path} has no integration"
            if method == "options":  # CORS preflight: API Gateway's mock, no function behind it
                assert operation["x-amazon-apigateway-integration"]["type"] == "mock"
                continue
            if (method.upper(), path) in PUBLIC_ROUTES:
                assert "security" not in operation, (method, path)
            else:
                assert operation["security"] == [{AUTHORIZER: []}], (method, path)
                guarded += 1
    assert guarded >= 1


def test_the_staff_pool_has_the_officer_and_supervisor_groups(template: dict[str, Any]) -> None:
    groups = {
        g["Properties"]["GroupName"]: g["Properties"]["UserPoolId"]
        for g in _of_type(template, "AWS::Cognito::UserPoolGroup").values()
    }
    assert groups == {"officer": {"Ref": "StaffUserPool"}, "supervisor": {"Ref": "StaffUserPool"}}
    pool = template["Resources"]["StaffUserPool"]["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    client = template["Resources"]["StaffUserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False and client["UserPoolId"] == {"Ref": "StaffUserPool"}


def test_staff_apps_sign_in_through_the_hosted_page_with_code_and_pkce(template: dict[str, Any]) -> None:
    """The officers' app and the console: authorization code only (no implicit flow), the
    site's /field/ and /console/ as the only callback and sign-out URLs, a hosted domain."""
    client = template["Resources"]["StaffUserPoolClient"]["Properties"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthFlows"] == ["code"] and client["AllowedOAuthScopes"] == ["openid"]
    site = "https://${SiteDistribution.DomainName}"
    for urls in (client["CallbackURLs"], client["LogoutURLs"]):
        assert urls == [{"Fn::Sub": f"{site}/field/"}, {"Fn::Sub": f"{site}/console/"}]
    domain = template["Resources"]["StaffUserPoolDomain"]
    assert domain["Type"] == "AWS::Cognito::UserPoolDomain"
    assert domain["Properties"]["UserPoolId"] == {"Ref": "StaffUserPool"}
    site = template["Resources"]["SiteDistribution"]["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    (rewrite,) = site["FunctionAssociations"]
    assert rewrite["FunctionARN"] == {"Fn::GetAtt": ["SiteIndexRewrite", "FunctionMetadata.FunctionARN"]}
    assert 'request.uri += "index.html"' in template["Resources"]["SiteIndexRewrite"]["Properties"]["FunctionCode"]
    config = template["Outputs"]["StaffAppConfig"]["Value"]["Fn::Sub"][0]
    assert '"token_url": "${Base}/oauth2/token"' in config and '"client_id": "${StaffUserPoolClient}"' in config


def test_stage_throttling_comes_from_parameters(template: dict[str, Any], cfn: dict[str, Any]) -> None:
    (settings,) = template["Resources"]["CensusApi"]["Properties"]["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ApiThrottlingBurstLimit"}
    (stage,) = _of_type(cfn, "AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["MethodSettings"][0]["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}


def test_cors_allows_the_resident_page_only(template: dict[str, Any], cfn: dict[str, Any]) -> None:
    cors = template["Resources"]["CensusApi"]["Properties"]["Cors"]
    assert cors["AllowOrigin"] == {"Fn::Sub": "'${ResidentWebOrigin}'"}
    assert "Idempotency-Key" in cors["AllowHeaders"]
    paths = cfn["Resources"]["CensusApi"]["Properties"]["Body"]["paths"]
    assert all("options" in paths[path] for _, path in PUBLIC_ROUTES)


def test_api_gateway_errors_have_the_apis_error_shape(cfn: dict[str, Any]) -> None:
    responses = cfn["Resources"]["CensusApi"]["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"]
    assert {"DEFAULT_4XX", "DEFAULT_5XX", "THROTTLED", "UNAUTHORIZED", "BAD_REQUEST_BODY"} <= set(responses)
    for name, response in responses.items():
        error = json.loads(response["responseTemplates"]["application/json"])["error"]
        assert re.fullmatch(r"[a-z_]+", error["code"]) and error["message"], name
    assert responses["THROTTLED"]["statusCode"] == "429"
    assert responses["BAD_REQUEST_BODY"]["statusCode"] == "422"


def test_request_models_attach_only_to_routes_the_functions_define(template: dict[str, Any]) -> None:
    api = template["Resources"]["CensusApi"]["Properties"]
    assert api["MergeDefinitions"] is True
    routes = {(p["Method"].lower(), p["Path"]) for _, _, p in _api_events(template)}
    declared = {(method, path) for path, ops in api["DefinitionBody"]["paths"].items() for method in ops}
    assert declared and declared <= routes, declared - routes
    validator = api["DefinitionBody"]["x-amazon-apigateway-request-validator"]
    assert validator == {"Fn::If": ["BodyValidationEnabled", "body-and-params", "params-only"]}


def _model(template: dict[str, Any], name: str) -> dict[str, Any]:
    definitions = template["Resources"]["CensusApi"]["Properties"]["DefinitionBody"]["definitions"]
    return {"definitions": definitions, **definitions[name]}


def test_request_models_pass_real_bodies_and_stop_gross_ones(
    template: dict[str, Any], households: list[RegisterHousehold]
) -> None:
    response = jsonschema.Draft4Validator(_model(template, "HouseholdResponse"))
    credentials = jsonschema.Draft4Validator(_model(template, "HouseholdCredentials"))
    for household in households:
        body = submission_body(household)
        assert not list(response.iter_errors(body))
        assert not list(credentials.iter_errors({"respondent_nik": body["respondent_nik"]}))
    body = submission_body(households[0])
    body["members"][0]["current_area_code"] = "1671040001"  # a wrong value is the function's to judge
    body["members"][0]["name"] = "  " + "x" * 150  # as is a name over 100 characters
    assert not list(response.iter_errors(body))
    too_many = {**body, "members": body["members"] * 31}
    assert list(response.iter_errors(too_many))
    assert list(response.iter_errors({**body, "members": "everyone"}))
    assert list(credentials.iter_errors(["respondent_nik"]))


MANAGED_RULE_GROUPS = {
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
}
# Per-IP rate rules scoped down to a route: (method, a path the scope-down must match).
SCOPED_ROUTES = {
    "sign-in": ("POST", "/v1/sessions"),
    "status": ("POST", "/v1/households/3171010101010001/status"),
    "reports": ("POST", "/v1/reports"),
}


def _scope_matches(scope: dict[str, Any], method: str, path: str, stage: str = "") -> bool:
    statements = scope["AndStatement"]["Statements"]
    matched = []
    for statement in statements:
        if "ByteMatchStatement" in statement:
            match = statement["ByteMatchStatement"]
            value = method if "Method" in match["FieldToMatch"] else stage + path
            assert match["PositionalConstraint"] == "EXACTLY"
            matched.append(match["SearchString"] == value)
        else:
            regex = statement["RegexMatchStatement"]
            assert "UriPath" in regex["FieldToMatch"]
            matched.append(re.search(regex["RegexString"], stage + path) is not None)
    return len(statements) == 2 and all(matched)


def _rate_rules(acl: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in acl["Properties"]["Rules"] if "RateBasedStatement" in r["Statement"]]


def _managed_groups(acl: dict[str, Any]) -> set[str]:
    return {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for r in acl["Properties"]["Rules"]
        if "ManagedRuleGroupStatement" in r["Statement"]
    }


def test_the_regional_acl_limits_only_callers_it_sees_the_address_of(template: dict[str, Any]) -> None:
    acl = template["Resources"]["ApiWebAcl"]
    association = template["Resources"]["ApiWebAclAssociation"]
    assert acl["Condition"] == association["Condition"] == "WafEnabled"
    assert template["Conditions"]["WafEnabled"] == {"Fn::Equals": [{"Ref": "EnableWaf"}, "true"]}
    assert "${CensusApi.Stage}" in association["Properties"]["ResourceArn"]["Fn::Sub"]
    rules = sorted(acl["Properties"]["Rules"], key=lambda r: r["Priority"])
    # The body cap first (every request), then the distribution's requests leave (limited per
    # viewer at the edge), and only then the per-IP rules: they see direct callers only.
    assert "SizeConstraintStatement" in rules[0]["Statement"]
    edge = rules[1]
    assert edge["Action"] == {"Allow": {}}
    header = edge["Statement"]["ByteMatchStatement"]
    assert header["FieldToMatch"] == {"SingleHeader": {"Name": "x-census-edge"}}
    (api_origin,) = [
        o
        for o in template["Resources"]["SiteDistribution"]["Properties"]["DistributionConfig"]["Origins"]
        if o["Id"] == "api"
    ]
    assert api_origin["OriginCustomHeaders"] == [{"HeaderName": "x-census-edge", "HeaderValue": header["SearchString"]}]
    # The reports function knows the same value: with it, the per-client limit counts the
    # viewer CloudFront names (shared/http.py client_address), not the edge server.
    reports_env = template["Resources"]["ReportsFunction"]["Properties"]["Environment"]["Variables"]
    assert reports_env["EDGE_SECRET"] == header["SearchString"]
    assert all(r["Priority"] > edge["Priority"] for r in _rate_rules(acl))
    assert _managed_groups(acl) >= MANAGED_RULE_GROUPS
    rates = _rate_rules(acl)
    assert any("ScopeDownStatement" not in r["Statement"]["RateBasedStatement"] for r in rates)
    for route, (method, path) in SCOPED_ROUTES.items():
        assert any(
            _scope_matches(r["Statement"]["RateBasedStatement"]["ScopeDownStatement"], method, path, "/prod")
            for r in rates
            if "ScopeDownStatement" in r["Statement"]["RateBasedStatement"]
        ), route


def _edge_template() -> dict[str, Any]:
    return load_template(REPO_ROOT / "infra" / "waf-cloudfront.yaml")


def test_the_edge_acl_challenges_then_blocks_sign_in_and_limits_status_and_reports() -> None:
    edge = _edge_template()
    (acl,) = _of_type(edge, "AWS::WAFv2::WebACL").values()
    assert acl["Properties"]["Scope"] == "CLOUDFRONT"
    assert _managed_groups(acl) >= MANAGED_RULE_GROUPS
    parameters = edge["Parameters"]
    actions: dict[str, list[tuple[str, int]]] = {}
    for rule in _rate_rules(acl):
        rate = rule["Statement"]["RateBasedStatement"]
        assert rate["AggregateKeyType"] == "IP"
        if "ScopeDownStatement" not in rate:
            continue
        for route, (method, path) in SCOPED_ROUTES.items():
            if _scope_matches(rate["ScopeDownStatement"], method, path):
                (action,) = rule["Action"]
                actions.setdefault(route, []).append((action, parameters[rate["Limit"]["Ref"]]["Default"]))
    assert set(actions) == set(SCOPED_ROUTES)
    sign_in = dict(actions["sign-in"])
    assert set(sign_in) == {"Challenge", "Block"} and sign_in["Challenge"] < sign_in["Block"]
    assert all(action == "Block" for route in ("status", "reports") for action, _ in actions[route])
    _check_log_bucket(edge, "LogBucket")
    assert edge["Resources"]["LogBucket"]["Properties"]["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerPreferred"}  # CloudFront's standard logs are delivered by ACL
    ]
    assert set(edge["Outputs"]) == {"WebAclArn", "LogBucketDomainName"}


def test_the_edge_template_passes_cfn_lint() -> None:
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(REPO_ROOT / "infra" / "waf-cloudfront.yaml", ManualArgs(regions=["us-east-1"]))
    assert [str(m) for m in matches] == []


# ---------------------------------------------------------------- functions and roles


def test_no_role_grants_a_wildcard_action(cfn: dict[str, Any]) -> None:
    roles = _of_type(cfn, "AWS::IAM::Role")
    assert len(roles) >= len(_of_type(cfn, "AWS::Lambda::Function"))
    checked = 0
    for name, role in roles.items():
        properties = role["Properties"]
        assert set(properties.get("ManagedPolicyArns", [])) <= MANAGED_POLICIES, name
        for policy in properties.get("Policies", []):
            for statement in _statements(policy["PolicyDocument"]):
                for action in _actions(statement):
                    assert "*" not in action, f"{name}: {action}"
                    checked += 1
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for name, policy in _of_type(cfn, kind).items():
            for statement in _statements(policy["Properties"]["PolicyDocument"]):
                assert not any("*" in a for a in _actions(statement)), name
    assert checked > 0


def test_the_reports_function_never_touches_a_household(cfn: dict[str, Any]) -> None:
    """Filing a report cannot read whether a KK exists: every table grant of the reports
    function is confined to its own partitions, none to HH#."""
    role = cfn["Resources"]["ReportsFunctionRole"]["Properties"]
    statements = [
        s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"] if "dynamodb" in str(s["Action"])
    ]
    assert statements
    for statement in statements:
        keys = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        assert not [k for k in keys if k.startswith("HH#") or k == "*"], keys


def test_status_lookup_writes_only_failed_attempt_counters(cfn: dict[str, Any]) -> None:
    role = cfn["Resources"]["StatusFunctionRole"]["Properties"]
    writes = 0
    for policy in role["Policies"]:
        for statement in _statements(policy["PolicyDocument"]):
            dynamodb = [a for a in _actions(statement) if a.startswith("dynamodb:")]
            if set(dynamodb) - READ_ACTIONS:
                condition = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
                assert condition == ["LOCK#*"], statement
                writes += 1
    assert writes == 1


def test_every_function_runs_the_template_runtime_with_the_layer(cfn: dict[str, Any]) -> None:
    functions = _of_type(cfn, "AWS::Lambda::Function")
    (layer,) = _of_type(cfn, "AWS::Lambda::LayerVersion")
    assert len(functions) >= 2
    for name, function in functions.items():
        p = function["Properties"]
        assert p["Runtime"] == "python3.13" and p["Architectures"] == ["arm64"], name
        assert p["TracingConfig"] == {"Mode": "Active"}, name
        assert {"Ref": layer} in p["Layers"], name
        assert p["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}, name
        assert p["LoggingConfig"] == {"LogGroup": {"Ref": f"{name}LogGroup"}}, name
        assert isinstance(p["MemorySize"], int) and 0 < p["Timeout"] <= 900, name
        env = p["Environment"]["Variables"]
        assert env["POWERTOOLS_SERVICE_NAME"] == "census", name
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == {"Ref": "MetricsNamespace"}, name
        assert env["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}, name


def test_everything_invokes_the_published_alias_and_snapstart_is_off_unless_asked(cfn: dict[str, Any]) -> None:
    """SnapStart applies to published versions only: every caller (the API's integrations,
    their permissions, the schedule, the queue's poller) must call the alias "live", never
    $LATEST; and the functions carry SnapStart only under the FunctionSnapStart condition."""
    functions = _of_type(cfn, "AWS::Lambda::Function")
    aliases = {a["Properties"]["FunctionName"]["Ref"]: name for name, a in _of_type(cfn, "AWS::Lambda::Alias").items()}
    assert set(aliases) == set(functions)
    assert all(_of_type(cfn, "AWS::Lambda::Alias")[a]["Properties"]["Name"] == "live" for a in aliases.values())
    for name, function in functions.items():
        assert function["Properties"]["SnapStart"] == {
            "Fn::If": ["SnapStartOn", {"ApplyOn": "PublishedVersions"}, {"Ref": "AWS::NoValue"}]
        }, name
    assert cfn["Conditions"]["SnapStartOn"] == {"Fn::Equals": [{"Ref": "FunctionSnapStart"}, "PublishedVersions"]}
    assert cfn["Parameters"]["FunctionSnapStart"]["Default"] == "None"

    callers = [
        r["Properties"].get("FunctionName") or r["Properties"]["Target"]["Arn"]
        for kind in ("AWS::Lambda::Permission", "AWS::Lambda::EventSourceMapping", "AWS::Scheduler::Schedule")
        for r in _of_type(cfn, kind).values()
    ]
    body = json.dumps(cfn["Resources"]["CensusApi"]["Properties"]["Body"])
    integrations = re.findall(r"/functions/\$\{([A-Za-z0-9.]+)\}/invocations", body)
    assert len(callers) >= len(functions) and len(integrations) >= len(functions)
    assert all(c in [{"Ref": a} for a in aliases.values()] for c in callers), callers
    assert set(integrations) <= set(aliases.values()), integrations


def test_a_new_layer_or_new_code_publishes_a_new_version_behind_the_alias() -> None:
    """The domain lives in the layer and the functions' own folders rarely change: were the
    version named after the function's code alone, a deploy of a fix in shared/ would leave
    the alias (what the API calls) on the old layer."""

    def versions(layer_key: str, code_key: str) -> dict[str, str]:
        template = load_template()  # CodeUri/ContentUri as `sam package` writes them, keyed by content
        for name, resource in template["Resources"].items():
            properties = resource.get("Properties") or {}
            if resource["Type"] == "AWS::Serverless::LayerVersion":
                properties["ContentUri"] = f"s3://artifacts/{layer_key}.zip"
            elif resource["Type"] == "AWS::Serverless::Function":
                properties["CodeUri"] = f"s3://artifacts/{name}-{code_key}.zip"
        cfn = transform(template, {"AWS::Region": "ap-southeast-3"}, _NoManagedPolicies())  # type: ignore[arg-type]
        return {
            r["Properties"]["FunctionName"]["Ref"]: name for name, r in _of_type(cfn, "AWS::Lambda::Version").items()
        }

    before = versions("layer-1", "code-1")
    assert len(before) >= 5
    assert versions("layer-1", "code-1") == before  # deterministic: an unchanged deploy publishes nothing
    new_layer = versions("layer-2", "code-1")
    assert all(new_layer[f] != before[f] for f in before), (before, new_layer)
    new_code = versions("layer-1", "code-2")
    assert all(new_code[f] != before[f] for f in before), (before, new_code)


def test_api_functions_answer_within_api_gateways_time(template: dict[str, Any]) -> None:
    default = template["Globals"]["Function"]["Timeout"]
    assert default < 29  # API Gateway's integration timeout
    for name, function in _of_type(template, "AWS::Serverless::Function").items():
        events = function["Properties"].get("Events") or {}
        if events and all(e["Type"] == "Api" for e in events.values()):
            assert function["Properties"].get("Timeout", default) < 29, name


def test_reserved_concurrency_caps_the_bulk_and_officer_functions_not_the_residents(
    template: dict[str, Any],
) -> None:
    parameters = template["Parameters"]
    functions = _of_type(template, "AWS::Serverless::Function")
    reserved = {
        name: f["Properties"]["ReservedConcurrentExecutions"]
        for name, f in functions.items()
        if "ReservedConcurrentExecutions" in f["Properties"]
    }
    assert reserved == {
        "WorklistFunction": {"Ref": "WorklistReservedConcurrency"},
        "FieldworkFunction": {"Ref": "FieldworkReservedConcurrency"},
        "ConsoleFunction": {"Ref": "ConsoleReservedConcurrency"},
        "ProgressRollupFunction": 1,  # one refresh at a time, never taken from the console's
    }
    # Residents' functions are not capped (a cap would throttle them at the deadline); each
    # says why, where a scanner's "function-level concurrency limit" rule would look.
    for name in functions.keys() - reserved.keys():
        assert "throttl" in _skips(functions[name]).get("CKV_AWS_115", ""), name
    # The SQS poller stays below the worklist function's own cap, whatever the parameter.
    (fan_out,) = [e for e in functions["WorklistFunction"]["Properties"]["Events"].values() if e["Type"] == "SQS"]
    maximum = fan_out["Properties"]["ScalingConfig"]["MaximumConcurrency"]
    assert 2 <= maximum < parameters["WorklistReservedConcurrency"]["MinValue"]
    total = sum(r if isinstance(r, int) else parameters[r["Ref"]]["Default"] for r in reserved.values())
    # A region's default concurrency is 1,000, of which Lambda keeps 100 unreserved.
    assert total <= 900


def test_scanner_rules_that_do_not_fit_say_why_beside_the_resource(template: dict[str, Any]) -> None:
    for name, function in _of_type(template, "AWS::Serverless::Function").items():
        skips = _skips(function)
        assert {"CKV_AWS_117", "CKV_AWS_173"} <= set(skips), name
    for name, resource in template["Resources"].items():
        for rule, comment in _skips(resource).items():
            assert len(comment) > 40, (name, rule)


# ---------------------------------------------------------------- alarms and dashboard


def test_every_function_has_errors_throttles_and_duration_alarms(cfn: dict[str, Any]) -> None:
    alarms = _of_type(cfn, "AWS::CloudWatch::Alarm").values()
    covered: dict[str, set[str]] = {}
    for alarm in alarms:
        p = alarm["Properties"]
        if p.get("Namespace") == "AWS/Lambda":
            (dimension,) = p["Dimensions"]
            assert dimension["Name"] == "FunctionName"
            covered.setdefault(dimension["Value"]["Ref"], set()).add(p["MetricName"])
            if p["MetricName"] == "Duration":
                assert p["ExtendedStatistic"] == "p99"
    for name in _of_type(cfn, "AWS::Lambda::Function"):
        assert covered.get(name) == {"Errors", "Throttles", "Duration"}, f"{name}: alarms {covered.get(name)}"


def test_every_alarm_notifies_the_alarm_topic(cfn: dict[str, Any]) -> None:
    alarms = _of_type(cfn, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 3 * len(_of_type(cfn, "AWS::Lambda::Function")) + 3
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == ALARM_ACTIONS, name
        assert "docs/deploy.md" in json.dumps(alarm["Properties"]["AlarmDescription"]), name


def test_api_table_and_dead_letter_alarms(template: dict[str, Any], cfn: dict[str, Any]) -> None:
    alarms = [a["Properties"] for a in _of_type(cfn, "AWS::CloudWatch::Alarm").values()]
    api_name = template["Resources"]["CensusApi"]["Properties"]["Name"]
    five = [a for a in alarms if a.get("MetricName") == "5XXError"]
    assert len(five) == 1 and five[0]["Statistic"] == "Average" and five[0]["Threshold"] <= 0.05
    assert {"Name": "ApiName", "Value": api_name} in five[0]["Dimensions"]
    throttled = [a for a in alarms if "Metrics" in a]
    operations = {
        next(d["Value"] for d in m["MetricStat"]["Metric"]["Dimensions"] if d["Name"] == "Operation")
        for a in throttled
        for m in a["Metrics"]
        if "MetricStat" in m and m["MetricStat"]["Metric"]["MetricName"] == "ThrottledRequests"
    }
    assert {"GetItem", "Query", "PutItem", "UpdateItem", "TransactWriteItems"} <= operations
    # Every dead-letter queue (the functions' and any SQS redrive target) has a depth alarm.
    dead_letter = {"DeadLetterQueue"} | {
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for q in _of_type(template, "AWS::SQS::Queue").values()
        if "RedrivePolicy" in q["Properties"]
    }
    depth = {
        a["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in alarms
        if a.get("MetricName") == "ApproximateNumberOfMessagesVisible"
    }
    assert dead_letter <= depth


def test_the_rollups_failed_provinces_raise_an_alarm(template: dict[str, Any]) -> None:
    """A province that fails to refresh is logged and counted while the run succeeds: only the
    function's own metric can tell, so an alarm watches the name the function emits."""
    source = (REPO_ROOT / "functions" / "rollup" / "app.py").read_text(encoding="utf-8")
    emitted = set(re.findall(r'add_metric\(name="([A-Za-z]+)"', source))
    assert "ProgressRollupFailedProvinces" in emitted
    watched = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in _of_type(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == {"Ref": "MetricsNamespace"}
    }
    alarm = watched["ProgressRollupFailedProvinces"]
    service = template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    assert alarm["Dimensions"] == [{"Name": "service", "Value": service}]
    assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def _dashboard(template: dict[str, Any]) -> dict[str, Any]:
    body = template["Resources"]["CensusDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    parsed: dict[str, Any] = json.loads(re.sub(r"\$\{[^}]+\}", "X", body))
    return parsed


def _readme_validation_codes() -> set[str]:
    row = next(line for line in (REPO_ROOT / "docs" / "api.md").read_text().splitlines() if line.startswith("| 422 |"))
    return set(re.findall(r"`([a-z_]+)`", row)) - {"validation_error"}


def test_the_dashboard_shows_the_census_figures(template: dict[str, Any]) -> None:
    body = template["Resources"]["CensusDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = _dashboard(template)["widgets"]
    text = json.dumps(widgets)
    for metric in ("Submissions", "StatusLookups", "Error_too_many_attempts", "Error_invalid_credentials"):
        assert f'"{metric}"' in text, metric
    # The metrics are the functions' own: same namespace and service as the Powertools globals.
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == {"Ref": "MetricsNamespace"}
    assert '["${MetricsNamespace}", "Submissions", "service", "' + env["POWERTOOLS_SERVICE_NAME"] + '"' in body
    validation = next(w for w in widgets if w["properties"].get("title", "").startswith("Validation failures"))
    search = next(m[0]["expression"] for m in validation["properties"]["metrics"] if "SEARCH" in m[0]["expression"])
    codes = set(re.findall(r'"Error_([a-z_]+)"', search))
    assert codes == _readme_validation_codes()
    assert len(search) < 1024  # CloudWatch's limit for a search expression


# ---------------------------------------------------------------- deployment configuration


def test_samconfig_deploys_this_template_with_known_parameters(template: dict[str, Any]) -> None:
    config = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text())
    parameters = template["Parameters"]
    for environment, sections in config.items():
        if not isinstance(sections, dict) or "deploy" not in sections:
            continue
        deploy = sections["deploy"]["parameters"]
        assert deploy["template_file"] == "template.yaml", environment
        assert "CAPABILITY_IAM" in deploy["capabilities"], environment
        overrides = dict(re.findall(r'(\w+)="?([^" ]*)"?', deploy["parameter_overrides"]))
        assert set(overrides) <= set(parameters), set(overrides) - set(parameters)
        required = {name for name, p in parameters.items() if "Default" not in p}
        assert required <= set(overrides), f"{environment}: no value for {required - set(overrides)}"
        for name, value in overrides.items():
            allowed = parameters[name].get("AllowedValues")
            assert allowed is None or value in [str(a) for a in allowed], (environment, name, value)
            pattern = parameters[name].get("AllowedPattern")
            assert pattern is None or re.fullmatch(pattern, value), (environment, name, value)


# ---------------------------------------------------------------- census outputs (analytics)


def test_every_athena_workgroup_caps_the_bytes_a_query_scans(template: dict[str, Any]) -> None:
    workgroups = _of_type(template, "AWS::Athena::WorkGroup")
    assert workgroups
    default = int(template["Parameters"]["AnalyticsBytesScannedCutoff"]["Default"])
    assert 10_000_000 <= default <= 100 * 1024**3  # Athena's minimum; and a bound a mistake cannot pass
    for name, workgroup in workgroups.items():
        configuration = workgroup["Properties"]["WorkGroupConfiguration"]
        assert configuration["BytesScannedCutoffPerQuery"] == {"Ref": "AnalyticsBytesScannedCutoff"}, name
        assert configuration["EnforceWorkGroupConfiguration"] is True, name  # clients cannot lift the cap
        encryption = configuration["ResultConfiguration"]["EncryptionConfiguration"]
        assert encryption == {"EncryptionOption": "SSE_KMS", "KmsKey": {"Fn::GetAtt": ["TableKey", "Arn"]}}, name


def test_every_bucket_is_encrypted_private_and_tls_only(template: dict[str, Any]) -> None:
    buckets = _of_type(template, "AWS::S3::Bucket")
    assert "AnalyticsBucket" in buckets
    policies = {
        json.dumps(p["Properties"]["Bucket"]): p["Properties"]["PolicyDocument"]
        for p in _of_type(template, "AWS::S3::BucketPolicy").values()
    }
    for name in ("AnalyticsBucket", "ExportBucket"):
        properties = buckets[name]["Properties"]
        rule = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        assert rule == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": ["TableKey", "Arn"]}}, name
        assert all(properties["PublicAccessBlockConfiguration"].values()), name
        document = policies[json.dumps({"Ref": name})]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in _statements(document)
        ), name


def test_the_glue_tables_match_the_parquet_layout_and_the_export_sql(template: dict[str, Any]) -> None:
    """The Glue tables Athena reads declare what the export SQL writes (as DuckDB types it),
    and the raw export table the item fields census_ops/analytics.py reads."""
    import duckdb

    from census_ops import analytics as local
    from shared import analytics

    glue = {
        r["Properties"]["TableInput"]["Name"]: r["Properties"]["TableInput"]
        for r in _of_type(template, "AWS::Glue::Table").values()
    }
    hive = {"VARCHAR": "string", "INTEGER": "int", "DATE": "date", "BOOLEAN": "boolean"}
    with duckdb.connect() as connection:
        connection.execute(
            f"CREATE TABLE dynamodb_export AS SELECT 'x' AS export_id, NULL::{local.ITEM_TYPE} AS item LIMIT 0"
        )
        for name in analytics.EXPORTS:
            select = analytics.export_select(name, export_id="x", reference_date="2026-07-01")
            described = connection.execute(f"DESCRIBE {select}").fetchall()
            columns = [(row[0], hive[row[1]]) for row in described if row[0] != "regency"]
            declared = [(c["Name"], c["Type"]) for c in glue[name]["StorageDescriptor"]["Columns"]]
            assert declared == columns, name
            assert [k["Name"] for k in glue[name]["PartitionKeys"]] == ["regency"]
            assert glue[name]["Parameters"]["projection.enabled"] == "true"
    raw = glue["dynamodb_export"]["StorageDescriptor"]["Columns"]
    assert raw == [{"Name": "item", "Type": local.hive_type(local.ITEM_FIELDS)}]


def test_the_progress_rollup_runs_alone_every_five_minutes_and_writes_only_its_own_items(cfn: dict[str, Any]) -> None:
    """The ProgressRollup schedule (docs/decisions/0015) invokes the rollup function's alias
    with its job every 5 minutes, without retries (the next run rewrites everything), neither
    by the scheduler nor by Lambda's asynchronous invocation, and never an old event; the
    function runs one at a time, may only read the table and put ROLLUP# items; the console
    function has no schedule of the rollup's and its batch writes reach only SNAP#."""
    from functions.rollup.app import ROLLUP_JOB
    from shared.progress import ROLLUP_EVERY_SECONDS

    schedules = {
        name: r["Properties"]
        for name, r in _of_type(cfn, "AWS::Scheduler::Schedule").items()
        if "progress-rollup" in r["Properties"]["Target"].get("Input", "")
    }
    assert len(schedules) == 1, schedules
    (schedule,) = schedules.values()
    assert schedule["ScheduleExpression"] == f"rate({ROLLUP_EVERY_SECONDS // 60} minutes)"
    assert json.loads(schedule["Target"]["Input"])["job"] == ROLLUP_JOB
    assert schedule["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 0
    assert schedule["Target"]["Arn"] == {"Ref": "ProgressRollupFunctionAliaslive"}
    function = cfn["Resources"]["ProgressRollupFunction"]["Properties"]
    assert function["ReservedConcurrentExecutions"] == 1
    (invoke_config,) = _of_type(cfn, "AWS::Lambda::EventInvokeConfig").values()
    config = invoke_config["Properties"]
    assert config["FunctionName"] == {"Ref": "ProgressRollupFunction"} and config["Qualifier"] == "live"
    assert config["MaximumRetryAttempts"] == 0 and config["MaximumEventAgeInSeconds"] < ROLLUP_EVERY_SECONDS
    role = cfn["Resources"]["ProgressRollupFunctionRole"]["Properties"]
    dynamodb = [
        s
        for p in role["Policies"]
        for s in _statements(p["PolicyDocument"])
        if any(a.startswith("dynamodb:") for a in _actions(s))
    ]
    assert all(s["Effect"] == "Allow" for s in dynamodb)
    reads = [s for s in dynamodb if set(_actions(s)) <= READ_ACTIONS]
    writes = [s for s in dynamodb if s not in reads]
    assert {a for s in reads for a in _actions(s)} == {"dynamodb:GetItem", "dynamodb:Query"}
    assert len(writes) == 1 and _actions(writes[0]) == ["dynamodb:PutItem"]
    assert writes[0]["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["ROLLUP#*"]
    console = cfn["Resources"]["ConsoleFunctionRole"]["Properties"]
    batch = [
        s
        for p in console["Policies"]
        for s in _statements(p["PolicyDocument"])
        if s["Effect"] == "Allow" and "dynamodb:BatchWriteItem" in _actions(s)
    ]
    assert len(batch) == 1 and _actions(batch[0]) == ["dynamodb:BatchWriteItem"]
    assert batch[0]["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["SNAP#*"]
    assert "ROLLUP" not in json.dumps(console["Policies"])


def test_the_progress_stream_consumer_reads_the_tables_stream_and_writes_only_counters_and_receipts(
    template: dict[str, Any], cfn: dict[str, Any]
) -> None:
    """docs/decisions/0019: the table streams both images; one event source mapping on the
    consumer's alias, from the oldest record, with bisection, bounded retries and age, an
    on-failure queue with a depth alarm, and a filter that passes only MODIFYs of household
    META items (the same the local poller applies); the role updates PROGRESS# and RECEIPT#
    items only, reads only counters, and reads only this table's stream."""
    from census_ops.stream_poller import BATCH_SIZE, passes_filter
    from census_ops.template import table_definition
    from shared.progress_stream import MAXIMUM_RECORD_AGE_SECONDS

    table = template["Resources"]["CensusTable"]["Properties"]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table_definition(template)["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    (mapping,) = [
        m["Properties"]
        for m in _of_type(cfn, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"].get("EventSourceArn") == {"Fn::GetAtt": ["CensusTable", "StreamArn"]}
    ]
    assert mapping["FunctionName"] == {"Ref": "ProgressStreamFunctionAliaslive"}
    assert mapping["StartingPosition"] == "TRIM_HORIZON" and mapping["BisectBatchOnFunctionError"] is True
    assert mapping["BatchSize"] == BATCH_SIZE and mapping["MaximumBatchingWindowInSeconds"] <= 1
    assert mapping["ParallelizationFactor"] == 1  # a household's records in order
    assert 0 < mapping["MaximumRetryAttempts"] <= 10
    assert mapping["MaximumRecordAgeInSeconds"] == MAXIMUM_RECORD_AGE_SECONDS  # the checkpoints' pruning relies on it
    failures = mapping["DestinationConfig"]["OnFailure"]["Destination"]
    assert failures == {"Fn::GetAtt": ["ProgressStreamFailures", "Arn"]}
    depth = [
        a["Properties"]
        for a in _of_type(cfn, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and a["Properties"]["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["ProgressStreamFailures", "QueueName"]}
    ]
    assert len(depth) == 1
    lag = [
        m["MetricStat"]["Metric"]
        for a in _of_type(cfn, "AWS::CloudWatch::Alarm").values()
        for m in a["Properties"].get("Metrics", [])
        if "MetricStat" in m and m["MetricStat"]["Metric"]["MetricName"] == "IteratorAge"
    ]
    assert len(lag) == 1
    (pattern,) = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert pattern == {
        "eventName": ["MODIFY"],
        "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "HH#"}]}, "sk": {"S": ["META"]}}},
    }
    meta = {"eventName": "MODIFY", "dynamodb": {"Keys": {"pk": {"S": "HH#1"}, "sk": {"S": "META"}}}}
    assert passes_filter(meta)
    assert not passes_filter({**meta, "eventName": "INSERT"})
    assert not passes_filter({**meta, "dynamodb": {"Keys": {"pk": {"S": "HH#1"}, "sk": {"S": "V#0000000001"}}}})
    function = template["Resources"]["ProgressStreamFunction"]["Properties"]
    assert function["AutoPublishAliasAllProperties"] is True and "Events" not in function
    role = cfn["Resources"]["ProgressStreamFunctionRole"]["Properties"]
    assert set(role.get("ManagedPolicyArns", [])) <= MANAGED_POLICIES
    dynamodb = [
        s
        for p in role["Policies"]
        for s in _statements(p["PolicyDocument"])
        if any(a.startswith("dynamodb:") for a in _actions(s))
    ]
    assert all(s["Effect"] == "Allow" for s in dynamodb)
    on_table = [s for s in dynamodb if s["Resource"] == {"Fn::GetAtt": ["CensusTable", "Arn"]}]
    keys = {tuple(_actions(s)): s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] for s in on_table}
    assert keys == {("dynamodb:UpdateItem",): ["PROGRESS#*", "RECEIPT#*"], ("dynamodb:GetItem",): ["PROGRESS#*"]}
    stream = [s for s in dynamodb if s not in on_table]
    for statement in stream:
        if _actions(statement) != ["dynamodb:ListStreams"]:
            assert statement["Resource"] == {"Fn::GetAtt": ["CensusTable", "StreamArn"]}
            assert set(_actions(statement)) == {
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
            }
