"""The dashboard's screens: jobs (home), tasks of a job, subtasks of a multi-instance task."""
