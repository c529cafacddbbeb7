"""batchtui's own client against the simulator: the two meet only on the wire, and agree there."""

from __future__ import annotations

from sim_support import make_client

from batchtui.batch.auth import SharedKeyAuth
from batchtui.batch.errors import BatchServiceError
from batchtui.sim import SimConfig, Simulator


async def test_every_payload_parses_with_the_project_models() -> None:
    sim = Simulator(SimConfig(seed=12, jobs=30, tasks=20, instances=10, time_scale=0, max_page=40))
    async with make_client(sim) as client:
        jobs = await client.list_jobs(max_results=9)
        assert [j.id for j in jobs] == sim.job_ids()
        subtasks = 0
        for job in jobs:
            counts = await client.get_task_counts(job.id)
            tasks = await client.list_tasks(job.id)
            c = counts.task_counts
            assert c.succeeded + c.failed == c.completed
            assert c.active + c.running + c.completed <= len(tasks)
            if tasks:
                assert (await client.get_task(job.id, tasks[0].id)) == tasks[0]
            for task in tasks:
                if task.multi_instance_settings is not None and task.state != "active":
                    subs = await client.list_subtasks(job.id, task.id)
                    assert len(subs) == task.multi_instance_settings.number_of_instances - 1
                    subtasks += len(subs)
        assert subtasks


async def test_wrong_key_surfaces_as_a_service_error() -> None:
    sim = Simulator(SimConfig(seed=12, jobs=2, time_scale=0))
    async with make_client(sim, auth=SharedKeyAuth(sim.config.account, "d3Jvbmc=")) as client:
        try:
            await client.list_jobs()
        except BatchServiceError as exc:
            assert exc.status == 403 and exc.code == "AuthenticationFailed"
        else:
            raise AssertionError("a wrong key was accepted")
