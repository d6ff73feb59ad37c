# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""moto inside the proxy's process, and the strict behaviours' view of its state.

The proxy starts moto's server in a thread of its own process (:meth:`MotoBridge.start`), so
the behaviours can read and change moto's state directly: the policies of a role, the tags
of a VPC, the state of a NAT gateway. Requests still reach moto over loopback HTTP, exactly
as before, and ``HONEYHIVE_MOTO_URL`` still names moto itself for the test set-ups that
bypass the strict behaviours on purpose.
"""
from __future__ import annotations

import threading


class MotoBridge:
    """moto's server in a thread, and accessors of its backends."""

    def __init__(self):
        self.server = None
        self.url = None
        self.lock = threading.RLock()

    def start(self, port=0):
        from moto.moto_server.threaded_moto_server import ThreadedMotoServer

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.server.start()
        host, bound = self.server.get_host_and_port()
        self.url = "http://%s:%d" % (host, bound)
        return self.url

    def stop(self):
        if self.server is not None:
            self.server.stop()
            self.server = None

    # -- backends ------------------------------------------------------------------------

    @staticmethod
    def backend(service, account, region):
        """moto's backend of ``service`` (moto's name: ``ec2``, ``iam``, ``acm`` ...)."""
        from moto.backends import get_backend

        return get_backend(service)[account][region]

    def iam(self, account, partition="aws"):
        return self.backend("iam", account, partition)

    def ec2(self, account, region):
        return self.backend("ec2", account, region)

    @staticmethod
    def account_of_access_key(access_key):
        """The account moto files requests signed with ``access_key`` under (the account of the
        IAM user whose key it is, else moto's default account).

        moto's own lookup (``get_account_id_from``) indexes every partition of every account,
        which creates their IAM backends and loads every AWS managed policy into each; only
        backends that exist are read here.
        """
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.iam.models import iam_backends

        for account, backends in list(iam_backends.items()):
            for backend in list(dict.values(backends)):
                if access_key in backend.access_keys:
                    return account
        return DEFAULT_ACCOUNT_ID

    @staticmethod
    def assumed_role(access_key):
        """moto's record of the assumed-role session of ``access_key``, or None."""
        from moto.sts.models import sts_backends

        for _account, partitions in list(sts_backends.items()):
            for partition in list(partitions.values()):
                found = partition.get_assumed_role_from_access_key(access_key)
                if found is not None:
                    return found
        return None
