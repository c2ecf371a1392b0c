"""FSDP full-shard for `--fsdp` (torch ≥ 2.1; TypeScript refuses older ones): each decoder layer is one unit, the
original parameters stay visible (use_orig_params) as views of this rank's shard, so AdamW (train.py) runs on the
shards element by element, exactly as without FSDP. Full tensors are gathered only to write a checkpoint."""

import torch
import torch.distributed as dist

PREFIXES = ("_fsdp_wrapped_module.", "_checkpoint_wrapped_module.", "_orig_mod.")


def clean(name):
    for p in PREFIXES:
        name = name.replace(p, "")
    return name


def wrap(loaded, device):
    """Shard `loaded.module` over the ranks; returns the parameters in table order (local shards)."""
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
    from torch.distributed.fsdp import ShardingStrategy
    from torch.distributed.fsdp.wrap import ModuleWrapPolicy

    layers = loaded.module.model.layers
    policy = ModuleWrapPolicy({type(layers[0])})
    loaded.module = FSDP(loaded.module, sharding_strategy=ShardingStrategy.FULL_SHARD, auto_wrap_policy=policy,
                         use_orig_params=True, device_id=device if device.type == "cuda" else None,
                         limit_all_gathers=True)
    named = {clean(n): p for n, p in loaded.module.named_parameters()}
    loaded.params = [named[k] for k in loaded.keys]
    loaded.fsdp = True
    return loaded


def _full(module):
    from torch.distributed.fsdp import FullStateDictConfig, StateDictType
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

    cfg = FullStateDictConfig(offload_to_cpu=True, rank0_only=True)
    with FSDP.state_dict_type(module, StateDictType.FULL_STATE_DICT, cfg):
        return {clean(k): v for k, v in module.state_dict().items()}


def gather(loaded, shards=None):
    """Full tensors {key: tensor} on rank 0 (others get {}): the weights, or `shards` (one per parameter, shaped like
    the local parameter shards: AdamW moments) gathered the same way by lending them the parameters' storage."""
    if shards is None:
        return _full(loaded.module)
    with torch.no_grad():
        saved = [p.detach().clone() for p in loaded.params]
        for p, s in zip(loaded.params, shards):
            p.copy_(s)
        full = _full(loaded.module)
        for p, s in zip(loaded.params, saved):
            p.copy_(s)
    return full


def scatter(loaded, full, shards):
    """The inverse for resuming: full tensors (every rank has them) → this rank's shards, copied into `shards`."""
    from torch.distributed.fsdp import FullStateDictConfig, StateDictType
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

    with torch.no_grad():
        saved = [p.detach().clone() for p in loaded.params]
        cfg = FullStateDictConfig(offload_to_cpu=True, rank0_only=False)
        with FSDP.state_dict_type(loaded.module, StateDictType.FULL_STATE_DICT, cfg):
            current = loaded.module.state_dict()
            by_clean = {clean(k): k for k in current}
            patched = {by_clean[k]: full[k].to(current[by_clean[k]].dtype) for k in loaded.keys}
            for k, v in current.items():
                patched.setdefault(k, v)
            loaded.module.load_state_dict(patched)
        for p, s, keep in zip(loaded.params, shards, saved):
            s.copy_(p.detach())
            p.copy_(keep)
    dist.barrier()
