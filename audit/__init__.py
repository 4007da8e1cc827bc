"""govaudit audit package: the run record, config, data layer, run store and the audits themselves."""
from audit.core.errors import BadInputError, ExitCode, GovauditError, PolicyFailed

__all__ = ["BadInputError", "ExitCode", "GovauditError", "PolicyFailed"]
