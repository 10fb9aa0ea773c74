"""The environment every child process gets: kernels, the server and the proxy run offline and quietly."""

from __future__ import annotations

KERNEL = "edgecloud"
# Weights come from packages, never from a hub; tqdm's missing-widget warning is noise in logs.
KERNEL_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "PYTHONWARNINGS": "ignore:IProgress not found",
}
RUN_ID_VAR = "EDGECLOUD_RUN_ID"  # set by the pipeline so a notebook's rows land in the run it started
# The kernel's own log (an unencrypted-TCP warning on every start, a socket traceback when Ctrl-C lands while it
# replies) is infrastructure noise on the user's terminal; a cell's errors reach the notebook and the run's message.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]
