"""Registration of the published tables and of each published date in the AWS Glue Data Catalog.

Athena reads the tables through partition projection alone (``catalog.py``), but Spark, EMR,
Redshift Spectrum and Glue jobs list partitions from the catalog, so each publication of D also
creates or updates D's partition there. Everything is create-or-update: a re-run of D, a second
process racing this one or a table changed by hand all converge to the same catalog entries.

Off unless ``RECON_GLUE_DATABASE`` names a database. The client is plain boto3: endpoint, region and
credentials come from boto3's own chain (``AWS_ENDPOINT_URL_GLUE`` or ``AWS_ENDPOINT_URL``,
``AWS_REGION``/``AWS_DEFAULT_REGION``, ``AWS_ACCESS_KEY_ID``…, a profile or an instance role), so no
secret passes through Dagster config.
"""

from __future__ import annotations

import os
import re
from typing import Any

import boto3
from botocore.config import Config
from pydantic import PrivateAttr, field_validator, model_validator

from reconciliation_assets.catalog import (
    INPUT_FORMAT,
    OUTPUT_FORMAT,
    PARTITION_KEY,
    PARTITION_TYPE,
    SERDE,
    TABLES,
    CatalogTable,
)
from resources.env import ConfigurationError, EnvValidatedResource, EnvValue, env_var_name
from resources.storage import is_s3

# Glue's own rule for database names, lower case (Athena folds names to lower case anyway).
_DATABASE_NAME = re.compile(r"^[a-z0-9_]{1,255}$")
# A catalog outage must not hold the run for minutes: a few quick attempts, then the WARN check.
_CLIENT_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30)


class GlueCatalog(EnvValidatedResource):
    """Where each publication is registered in the Glue Data Catalog (``database`` empty = off)."""

    database: str = ""
    output_uri: str = "recon_data/output"
    range_start: str = "2024-01-01"  # first projected partition: the first daily partition

    _glue_client: Any = PrivateAttr(default=None)

    @field_validator("database")
    @classmethod
    def _name(cls, value: str) -> str:
        if value and not _DATABASE_NAME.match(value):
            raise ValueError(
                f"nome de banco do Glue inválido: {value!r} (use letras minúsculas, números e _, até 255)"
            )
        return value

    @model_validator(mode="after")
    def _needs_s3_output(self) -> GlueCatalog:
        # Raised as ConfigurationError (not ValueError) so it names both variables, not one field.
        # The fields may hold the EnvVars again here (env.py keeps them for the UI): read their values.
        database, output = _value(self.database), _value(self.output_uri)
        if database and not is_s3(output):
            raise ConfigurationError(
                [
                    f"RECON_GLUE_DATABASE={database!r}: o Glue só registra saídas em s3://, mas "
                    f"RECON_OUTPUT_URI={output!r} é uma pasta local (aponte RECON_OUTPUT_URI "
                    "para s3://bucket/prefixo ou deixe RECON_GLUE_DATABASE vazio)"
                ]
            )
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.database)

    def _client(self) -> Any:
        if self._glue_client is None:
            self._glue_client = boto3.client("glue", config=_CLIENT_CONFIG)
        return self._glue_client

    # ---- what the catalog should hold ---------------------------------------------------------
    def _storage(self, table: CatalogTable, location: str) -> dict[str, Any]:
        return {
            "Columns": [{"Name": c.name, "Type": c.type, "Comment": c.comment} for c in table.columns],
            "Location": location,
            "InputFormat": INPUT_FORMAT,
            "OutputFormat": OUTPUT_FORMAT,
            "Compressed": False,
            "SerdeInfo": {"SerializationLibrary": SERDE, "Parameters": {"serialization.format": "1"}},
        }

    def table_input(self, table: CatalogTable) -> dict[str, Any]:
        return {
            "Name": table.name,
            "Description": table.description,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"EXTERNAL": "TRUE", **table.parameters(self.output_uri, self.range_start)},
            "PartitionKeys": [{"Name": PARTITION_KEY, "Type": PARTITION_TYPE}],
            "StorageDescriptor": self._storage(table, table.location(self.output_uri)),
        }

    def partition_input(self, table: CatalogTable, data_referencia: str) -> dict[str, Any]:
        return {
            "Values": [data_referencia],
            "StorageDescriptor": self._storage(
                table, table.partition_location(self.output_uri, data_referencia)
            ),
        }

    # ---- registration -----------------------------------------------------------------------
    def register_day(self, data_referencia: str) -> dict[str, Any]:
        """Make the database, the four tables and D's partition of each match the publication.

        Returns what was done, for the step's metadata: ``{"acao_banco": …, "tabelas": {table: action},
        "particoes": {table: action}}`` with actions ``criada``, ``atualizada`` or ``igual``.
        """
        glue = self._client()
        done: dict[str, Any] = {"acao_banco": self._ensure_database(glue), "tabelas": {}, "particoes": {}}
        for table in TABLES:
            done["tabelas"][table.name] = self._upsert_table(glue, self.table_input(table))
            done["particoes"][table.name] = self._upsert_partition(
                glue, table.name, self.partition_input(table, data_referencia)
            )
        return done

    def _ensure_database(self, glue: Any) -> str:
        try:
            glue.get_database(Name=self.database)
            return "igual"
        except glue.exceptions.EntityNotFoundException:
            pass
        try:
            glue.create_database(
                DatabaseInput={
                    "Name": self.database,
                    "Description": "Conciliação diária fornecedor × base interna: tabelas publicadas.",
                }
            )
        except glue.exceptions.AlreadyExistsException:  # created by a concurrent run
            return "igual"
        return "criada"

    def _upsert_table(self, glue: Any, wanted: dict[str, Any]) -> str:
        try:
            current = glue.get_table(DatabaseName=self.database, Name=wanted["Name"])["Table"]
        except glue.exceptions.EntityNotFoundException:
            try:
                glue.create_table(DatabaseName=self.database, TableInput=wanted)
                return "criada"
            except glue.exceptions.AlreadyExistsException:
                current = glue.get_table(DatabaseName=self.database, Name=wanted["Name"])["Table"]
        if _same_table(current, wanted):
            return "igual"  # no UpdateTable: each one archives a table version
        glue.update_table(DatabaseName=self.database, TableInput=wanted)
        return "atualizada"

    def _upsert_partition(self, glue: Any, table: str, wanted: dict[str, Any]) -> str:
        try:
            glue.create_partition(DatabaseName=self.database, TableName=table, PartitionInput=wanted)
            return "criada"
        except glue.exceptions.AlreadyExistsException:
            glue.update_partition(
                DatabaseName=self.database,
                TableName=table,
                PartitionValueList=wanted["Values"],
                PartitionInput=wanted,
            )
            return "atualizada"


def _value(field: str) -> str:
    """A field's value, also when it holds an ``EnvVar`` (a ``str`` holding the variable's name)."""
    name = env_var_name(field)
    if name and not isinstance(field, EnvValue):
        return os.environ.get(name, "")
    return str(field)


def _same_table(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    def columns(cols: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
        return [(c["Name"], c["Type"], c.get("Comment", "")) for c in cols]

    have, want = current.get("StorageDescriptor", {}), wanted["StorageDescriptor"]
    return (
        current.get("TableType") == wanted["TableType"]
        and current.get("Description", "") == wanted["Description"]
        and columns(current.get("PartitionKeys", [])) == columns(wanted["PartitionKeys"])
        and columns(have.get("Columns", [])) == columns(want["Columns"])
        and have.get("Location") == want["Location"]
        and have.get("InputFormat") == want["InputFormat"]
        and have.get("OutputFormat") == want["OutputFormat"]
        and have.get("SerdeInfo", {}).get("SerializationLibrary") == want["SerdeInfo"]["SerializationLibrary"]
        and all(current.get("Parameters", {}).get(k) == v for k, v in wanted["Parameters"].items())
    )
