"""The deployment definitions load with the right schedule and time zone (no server needed)."""

from flows import deploy


def test_nightly_runs_at_four_danish_time():
    deployment = deploy.nightly_deployment()
    assert deployment.name == "nightly"
    assert deployment.entrypoint == "flows/pipeline.py:nightly"
    [schedule] = deployment.schedules
    assert schedule.schedule.cron == "0 4 * * *"
    assert schedule.schedule.timezone == "Europe/Copenhagen"
    assert schedule.active


def test_adhoc_has_no_schedule_and_is_a_dry_run_by_default():
    deployment = deploy.adhoc_deployment()
    assert not deployment.schedules
    assert deployment._parameter_openapi_schema.properties["dry_run"]["default"] is True


def test_parameters_hold_no_data_only_paths():
    params = deploy.nightly_deployment().parameters
    assert set(params) <= {"out", "sources"}
