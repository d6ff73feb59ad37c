# Copyright (c) HoneyHive
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Creation and deletion times (switch ``timing``).

AWS makes many resources asynchronously: the create call answers at once with the resource in
a transitional state (``CREATING``, ``pending``, ``PENDING_VALIDATION``), and only later is it
usable; a delete leaves it ``DELETING`` / ``deleting`` for a while. moto makes everything
usable at once, so a collection that forgets to wait works locally and fails on AWS.

:data:`DURATIONS` is the one table of how long each takes on AWS, with where the figure comes
from. The local AWS keeps each resource in its transitional state for that time divided by
the time scale (``--time-scale``, ``HONEYHIVE_AWS_TIME_SCALE``; 20 by default, so an EKS
cluster takes 30 s). With the switch off every duration is 0.

:class:`Timing` changes the state of moto's own objects on a timer (NAT gateways, VPC
endpoints) and lends :meth:`Timing.duration` to the services the local AWS serves itself
(EKS, ACM validation). Every transition it times is recorded (kind, name, start, end) for
``make bench`` (``/_aws/timing``).
"""
from __future__ import annotations

import heapq
import itertools
import threading
import time

from .core import Behaviour
from .wire import xml_text

# kind: (seconds on AWS, source). Figures are typical, not worst cases.
DURATIONS = {
    "eks_cluster_create": (600, "EKS user guide, create-cluster: 'Cluster provisioning takes several minutes'; "
                            "Auto Mode getting started (automode-get-started-cli): 'typically takes about 15 "
                            "minutes'; Terraform aws_eks_cluster default create timeout 30 min (upper bound). "
                            "10 min is the usual figure reported for a standard cluster"),
    "eks_cluster_delete": (240, "EKS user guide (eks-networking-add-ons): 'The cluster takes a few minutes to "
                            "delete'; Terraform aws_eks_cluster default delete timeout 15 min"),
    "eks_cluster_version_update": (1560, "EKS user guide, update-cluster: 'The update takes several minutes to "
                                     "complete'; Terraform aws_eks_cluster update timeout 60 min; 25-30 min is "
                                     "the commonly reported control plane upgrade time (unconfirmed)"),
    "eks_cluster_config_update": (300, "EKS user guide, update-cluster / cluster-endpoint: 'several minutes' for "
                                   "endpoint, logging, subnet and authentication mode updates"),
    "eks_cluster_encryption": (1200, "EKS user guide, enable-kms (security-k8s): an update followed with "
                                 "describe-update, no figure given; about 20 min is the commonly reported "
                                 "time (unconfirmed)"),
    "eks_nodegroup_create": (240, "EKS user guide (eks-networking-add-ons): 'The node group takes a few minutes to "
                              "create'; Terraform aws_eks_node_group create timeout 60 min (upper bound); "
                              "about 4 min is typical for a small group"),
    "eks_nodegroup_delete": (300, "EKS user guide, delete-managed-node-group: instances drained then terminated, "
                              "'a few minutes'; Terraform aws_eks_node_group delete timeout 60 min"),
    "eks_nodegroup_config_update": (60, "labels, taints, scaling and update config change without replacing "
                                    "nodes (EKS user guide, update-managed-node-group); about 1 min "
                                    "(unconfirmed)"),
    "eks_nodegroup_version_update": (900, "EKS user guide, managed-node-update-behavior: nodes replaced one "
                                      "maxUnavailable batch at a time, each drained for up to 15 min; about "
                                      "15 min for a small group (unconfirmed)"),
    "eks_addon_create": (90, "EKS user guide, eks-add-ons: 'Installation of the add-on can take several minutes'; "
                         "Terraform aws_eks_addon create timeout 20 min; 1-2 min is typical"),
    "eks_addon_update": (60, "Terraform aws_eks_addon update timeout 20 min; about 1 min is typical (unconfirmed)"),
    "eks_addon_delete": (60, "Terraform aws_eks_addon delete timeout 40 min; about 1 min is typical (unconfirmed)"),
    "nat_gateway_create": (90, "Amazon VPC User Guide, 'NAT gateways': the state is pending until the "
                               "gateway is available, typically 1 to 2 minutes"),
    "nat_gateway_delete": (60, "Amazon VPC User Guide, 'Delete a NAT gateway': deleting, about a minute"),
    "vpc_endpoint_create": (120, "AWS PrivateLink Guide: an interface endpoint is pending for about two "
                                 "minutes before it is available"),
    "vpc_endpoint_delete": (60, "AWS PrivateLink Guide: an interface endpoint is deleting for about a minute"),
    "acm_dns_validation": (180, "AWS Certificate Manager User Guide, 'DNS validation': ACM issues the "
                                "certificate a few minutes after the CNAME record resolves"),
    "rds_instance_create": (600, "Amazon RDS User Guide: a Single-AZ DB instance is creating for about "
                                 "10 minutes"),
    "rds_instance_create_multi_az": (1080, "Amazon RDS User Guide: a Multi-AZ DB instance takes 15 to 20 "
                                           "minutes"),
    "rds_instance_delete": (420, "Amazon RDS User Guide: deleting, 5 to 10 minutes with a final snapshot"),
    "elasticache_replication_group_create": (750, "Amazon ElastiCache User Guide: a replication group "
                                                  "with encryption takes 10 to 15 minutes"),
    "elasticache_replication_group_delete": (420, "Amazon ElastiCache User Guide: deleting, 5 to 10 minutes"),
    "docdb_cluster_create": (750, "Amazon DocumentDB Developer Guide: a cluster and its instances take 10 to "
                                  "15 minutes"),
    "docdb_cluster_delete": (420, "Amazon DocumentDB Developer Guide: deleting, 5 to 10 minutes"),
}


class Timing(Behaviour):
    name = "timing"

    def __init__(self, strict):
        super().__init__(strict)
        self.lock = threading.Lock()
        self.events = []          # {"kind", "name", "start", "end"} (wall seconds)
        self._queue = []          # (when, seq, function)
        self._seq = itertools.count()
        self._wake = threading.Condition(self.lock)
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="local-aws-timing", daemon=True)
        self._thread.start()

    # -- the table -------------------------------------------------------------------------

    def duration(self, kind):
        """Wall seconds ``kind`` takes at the current scale; 0 with the switch off."""
        if not self.settings.on(self.name):
            return 0.0
        return self.settings.scaled(DURATIONS[kind][0])

    def record(self, kind, name, start, seconds):
        """Note one timed transition (for the bench); returns its end."""
        end = start + seconds
        if seconds > 0:
            with self.lock:
                self.events.append({"kind": kind, "name": name, "start": start, "end": end})
        return end

    # -- the timer -------------------------------------------------------------------------

    def at(self, when, function):
        with self.lock:
            heapq.heappush(self._queue, (when, next(self._seq), function))
            self._wake.notify()

    def _run(self):
        while True:
            with self.lock:
                while not self._stopped and (not self._queue or self._queue[0][0] > time.time()):
                    timeout = (self._queue[0][0] - time.time()) if self._queue else None
                    self._wake.wait(timeout)
                if self._stopped:
                    return
                _, _, function = heapq.heappop(self._queue)
            try:
                function()
            except Exception as exc:  # a vanished object: nothing to change
                import sys

                sys.stderr.write("local-aws timing: %r\n" % exc)

    def stop(self):
        with self.lock:
            self._stopped = True
            self._wake.notify()

    def transition(self, kind, name, obj, attribute, during, final):
        """Set ``obj.attribute`` to ``during`` now and to ``final`` after ``kind``'s duration."""
        seconds = self.duration(kind)
        if seconds <= 0:
            setattr(obj, attribute, final)
            return
        setattr(obj, attribute, during)
        end = self.record(kind, name, time.time(), seconds)
        self.at(end, lambda: setattr(obj, attribute, final))

    # -- moto's asynchronous resources -----------------------------------------------------

    def after(self, call, answer):
        if answer.status != 200 or call.service != "ec2" or call.principal is None:
            return answer
        operation = call.operation
        if operation in ("CreateNatGateway", "DeleteNatGateway"):
            text = answer.body.decode("utf-8", "replace")
            key = xml_text(text, "natGatewayId")
            nat = self.strict.moto.ec2(call.account, call.region).nat_gateways.get(key)
            if nat is not None:
                if operation == "CreateNatGateway":
                    self.transition("nat_gateway_create", key, nat, "state", "pending", "available")
                    answer.body = text.replace("<state>available</state>", "<state>%s</state>" % nat.state,
                                               1).encode("utf-8")
                else:
                    self.transition("nat_gateway_delete", key, nat, "state", "deleting", "deleted")
        elif operation == "CreateVpcEndpoint":
            key = xml_text(answer.body.decode("utf-8", "replace"), "vpcEndpointId")
            endpoint = self.strict.moto.ec2(call.account, call.region).vpc_end_points.get(key)
            if endpoint is not None and (endpoint.vpc_endpoint_type or "").lower() == "interface":
                self.transition("vpc_endpoint_create", key, endpoint, "state", "pending", "available")
        elif operation == "DeleteVpcEndpoints":
            backend = self.strict.moto.ec2(call.account, call.region)
            for key in call.params.get("VpcEndpointIds") or ():
                endpoint = backend.vpc_end_points.get(key)
                if endpoint is not None and (endpoint.vpc_endpoint_type or "").lower() == "interface":
                    self.transition("vpc_endpoint_delete", key, endpoint, "state", "deleting", "deleted")
        return answer

    def control(self, method, path, body):
        if path == "/_aws/timing" and method == "GET":
            with self.lock:
                events = [dict(e) for e in self.events]
            return 200, {"scale": self.settings.scale, "enabled": self.settings.on(self.name),
                         "durations": {k: {"seconds": v[0], "source": v[1]} for k, v in DURATIONS.items()},
                         "events": events}
        if path == "/_aws/timing/reset" and method == "POST":
            with self.lock:
                self.events = []
            return 200, {"status": "ok"}
        return None


