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
    from shared.storage import GuessCounter, IdempotencyRecord

    ttl = template["Resources"]["CensusTable"]["Properties"]["TimeToLiveSpecification"]
    assert ttl["Enabled"] is True
    assert ttl["AttributeName"] == IdempotencyRecord.expires_at.attr_name == GuessCounter.expires_at.attr_name


def test_the_key_grants_wildcards_only_to_the_account_through_iam(template: dict[str, Any]) -> None:
    for statement in _statements(template["Resources"]["TableKey"]["Properties"]["KeyPolicy"]):
        if any("*" in action for action in _actions(statement)):
            assert statement["Sid"] == "AccountAdministersTheKeyThroughIam"
            assert statement["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
        else:
            assert statement["Condition"]["StringEquals"]["kms:CallerAccount"] == {"Ref": "AWS::AccountId"}


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


def test_waf_is_optional_and_limits_each_client_ip(template: dict[str, Any]) -> None:
    acl = template["Resources"]["ApiWebAcl"]
    association = template["Resources"]["ApiWebAclAssociation"]
    assert acl["Condition"] == association["Condition"] == "WafEnabled"
    assert template["Conditions"]["WafEnabled"] == {"Fn::Equals": [{"Ref": "EnableWaf"}, "true"]}
    rates = [
        r["Statement"]["RateBasedStatement"]
        for r in acl["Properties"]["Rules"]
        if "RateBasedStatement" in r["Statement"]
    ]
    assert rates == [
        {"AggregateKeyType": "IP", "EvaluationWindowSec": 300, "Limit": {"Ref": "WafRequestsPerIpPer5Min"}}
    ]
    assert "${CensusApi.Stage}" in association["Properties"]["ResourceArn"]["Fn::Sub"]


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
        assert p["LoggingConfig"] == {"LogGroup": {"Ref": "FunctionLogGroup"}}, name
        assert isinstance(p["MemorySize"], int) and 0 < p["Timeout"] <= 900, name
        env = p["Environment"]["Variables"]
        assert env["POWERTOOLS_SERVICE_NAME"] == "census", name
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == {"Ref": "MetricsNamespace"}, name
        assert env["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}, name


def test_api_functions_answer_within_api_gateways_time(template: dict[str, Any]) -> None:
    default = template["Globals"]["Function"]["Timeout"]
    assert default < 29  # API Gateway's integration timeout
    for name, function in _of_type(template, "AWS::Serverless::Function").items():
        events = function["Properties"].get("Events") or {}
        if events and all(e["Type"] == "Api" for e in events.values()):
            assert function["Properties"].get("Timeout", default) < 29, name


def test_reserved_concurrency_protects_the_table_and_leaves_the_account_room(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]
    reserved = {
        name: f["Properties"]["ReservedConcurrentExecutions"]
        for name, f in _of_type(template, "AWS::Serverless::Function").items()
        if "ReservedConcurrentExecutions" in f["Properties"]
    }
    assert reserved["IntakeFunction"] == {"Ref": "IntakeReservedConcurrency"}
    assert reserved["StatusFunction"] == {"Ref": "StatusReservedConcurrency"}
    total = sum(parameters[r["Ref"]]["Default"] for r in reserved.values())
    # A region's default concurrency is 1,000, of which Lambda keeps 100 unreserved.
    assert total <= 900


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


def _dashboard(template: dict[str, Any]) -> dict[str, Any]:
    body = template["Resources"]["CensusDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    parsed: dict[str, Any] = json.loads(re.sub(r"\$\{[^}]+\}", "X", body))
    return parsed


def _readme_validation_codes() -> set[str]:
    row = next(line for line in (REPO_ROOT / "README.md").read_text().splitlines() if line.startswith("| 422 |"))
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
