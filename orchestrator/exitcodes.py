"""Exit codes shared by every ``crmsync`` command, so schedulers can act on them."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    CONFIG = 2  # configuration or usage error: a person must fix something
    PARTIAL = 3  # a stream failed, or reading stopped for the API budget
    FINDINGS = 4  # reconciliation findings over the configured thresholds
