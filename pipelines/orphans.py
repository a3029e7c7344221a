"""Runs that a stopped server left behind, marked as failed before the next one starts.

The daemon launches runs in worker processes (DefaultRunLauncher). When `hometown serve` stops, or
the machine does, those workers die with it, but their runs stay STARTED or STARTING in the
run storage: they hold the queue's slots (max_concurrent_runs) forever, so every later sensor or
schedule run waits in QUEUED. Dagster's run monitoring cannot see it: the default launcher has no
worker health check. `hometown serve` runs this before it starts the daemon (the only launcher of
such runs for this instance), so any such run left is an orphan. Runs of `hometown materialize`
(tagged CLI_TAG) run in the foreground of their own command and are left alone.

    DAGSTER_HOME=… python -m pipelines.orphans
"""

from __future__ import annotations

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

CLI_TAG = "hometown/launched_by"
ORPHANED = [DagsterRunStatus.STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.CANCELING]


def fail_orphaned_runs(instance: DagsterInstance) -> list[str]:
    """Mark the unfinished runs of a previous server failed (canceling ones canceled); their ids."""
    ended = []
    for run in instance.get_runs(RunsFilter(statuses=ORPHANED)):
        if run.tags.get(CLI_TAG) == "cli":
            continue
        message = "its run worker ended with the server that launched it (hometown serve stopped)"
        if run.status == DagsterRunStatus.CANCELING:
            instance.report_run_canceled(run, message=message)
        else:
            instance.report_run_failed(run, message=message)
        ended.append(run.run_id)
    return ended


if __name__ == "__main__":
    with DagsterInstance.get() as current:
        ids = fail_orphaned_runs(current)
    if ids:
        print(f"marked {len(ids)} orphaned run(s) of a previous server as failed: {', '.join(i[:8] for i in ids)}")
