"""What an operator would script with the official SDK (azure-batch 15.x), as its docs show:
list the jobs, then ask for each job's task counts, one after the other.

Usage: python bench/sdk_task_counts.py   (reads AZURE_BATCH_ENDPOINT/ACCOUNT/ACCESS_KEY)
Prints one line: "<jobs> <jobs with counts>".
"""

from __future__ import annotations

import os

from azure.batch import BatchClient
from azure.core.credentials import AzureNamedKeyCredential


def main() -> None:
    credential = AzureNamedKeyCredential(
        os.environ["AZURE_BATCH_ACCOUNT"], os.environ["AZURE_BATCH_ACCESS_KEY"]
    )
    client = BatchClient(os.environ["AZURE_BATCH_ENDPOINT"], credential)
    jobs = list(client.list_jobs())
    counted = 0
    for job in jobs:
        counts = client.get_job_task_counts(job.id)
        counted += counts.task_counts is not None
    print(len(jobs), counted)


if __name__ == "__main__":
    main()
