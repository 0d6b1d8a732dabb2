#!/usr/bin/env python3
"""torchrun that also works on a PyTorch built without libuv (Debian 13's 2.6).

Since PyTorch 2.4 every TCPStore asks for the libuv backend unless told otherwise, and
torchrun's rendezvous (static and c10d) never tells it otherwise: on a build without libuv
torchrun dies with "use_libuv was requested but PyTorch was build without libuv support"
(upstream pytorch#148283), whatever USE_LIBUV or --rdzv-conf say. This wrapper makes every
TCPStore of the launcher use the classic backend, then runs torchrun's own main() with the
same arguments. Where TCPStore has no use_libuv (PyTorch < 2.4) or libuv is built in, it
changes nothing.

    python3 scripts/torchrun.py --nproc_per_node 8 --no_python build/train/scenery-train ...
"""
import sys

from torch._C import _distributed_c10d as c10d
import torch.distributed as dist


def _store_takes_use_libuv():
    return "use_libuv" in (c10d.TCPStore.__init__.__doc__ or "")


if _store_takes_use_libuv():
    class _TCPStoreWithoutLibuv(c10d.TCPStore):
        def __init__(self, *args, **kwargs):
            kwargs["use_libuv"] = False
            super().__init__(*args, **kwargs)

    # Before torch.distributed.run imports the rendezvous modules, which bind the name.
    c10d.TCPStore = _TCPStoreWithoutLibuv
    dist.TCPStore = _TCPStoreWithoutLibuv

from torch.distributed.run import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
