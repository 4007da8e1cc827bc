"""Airflow-style scheduled monitoring job: export yesterday's predictions, run `govaudit monitor`, branch on the exit
code (0 ok, 1 alert -> page, 2 bad input -> fail the task). Copy into your DAGs folder and adapt the paths."""
from __future__ import annotations

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

RUN_ID = "20230501T000000Z-abc123"  # the audited, signed-off run that is deployed
PROJECT = "/srv/govaudit-project"

with DAG("govaudit_monitor", schedule="15 6 * * *", start_date=datetime(2023, 5, 1), catchup=False,
         default_args={"retries": 0, "retry_delay": timedelta(minutes=5)}) as dag:
    export = BashOperator(task_id="export_predictions",
                          bash_command=f"cd {PROJECT} && ./export_predictions.sh {{{{ ds }}}} logs/{{{{ ds }}}}.parquet")
    monitor = BashOperator(
        task_id="govaudit_monitor",
        # exit 1 (alert) fails the task so Airflow's on-failure callback pages; skip_on_exit_code would mute it.
        bash_command=(f"cd {PROJECT} && .venv/bin/govaudit --quiet monitor --run {RUN_ID} --log logs/{{{{ ds }}}}.parquet "
                      "--policy monitor.yaml --junit reports/monitor-{{ ds }}.xml --markdown reports/monitor-{{ ds }}.md"),
    )
    export >> monitor
