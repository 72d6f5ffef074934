"""A real local Redis Cluster for the tests (see tests/topology.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import redis
from redis.crc import key_slot

from ratingsvc.embedded import RedisServerError, free_port
from tests.redisnodes import Node, until

SLOTS = 16384


class ClusterSet:
    """`masters` masters with `replicas` replicas each, slots split evenly, node timeout 1 s.
    Formed with redis-py commands (ADDSLOTSRANGE, MEET, REPLICATE): no redis-cli needed."""

    def __init__(self, directory: Path, masters: int = 3, replicas: int = 1) -> None:
        def node(name: str) -> Node:
            return Node(directory, name, ["cluster-enabled yes", "cluster-config-file nodes.conf",
                                          "cluster-node-timeout 1000", f"cluster-port {free_port()}"])
        self.masters = [node(f"master{i}") for i in range(masters)]
        self.replicas = [node(f"replica{i}.{j}") for i in range(masters) for j in range(replicas)]
        self.per_master = replicas

    @property
    def nodes(self) -> list[Node]:
        return [*self.masters, *self.replicas]

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.masters) + "/"

    def start(self) -> ClusterSet:
        try:
            self._create()
        except BaseException:
            self.stop()
            raise
        return self

    def _create(self) -> None:
        for node in self.nodes:
            node.start()
        ids = {}
        for i, master in enumerate(self.masters):
            first, last = SLOTS * i // len(self.masters), SLOTS * (i + 1) // len(self.masters) - 1
            with master.client() as client:
                client.execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)
                client.execute_command("CLUSTER", "SET-CONFIG-EPOCH", i + 1)
                ids[master.name] = client.execute_command("CLUSTER", "MYID")
        with self.masters[0].client() as client:
            for node in self.nodes[1:]:
                client.execute_command("CLUSTER", "MEET", "127.0.0.1", node.port, self._bus(node))
        until(lambda: all(self._knows_all(n) for n in self.nodes), "meet every node", self.nodes)
        for k, replica in enumerate(self.replicas):
            with replica.client() as client:
                client.execute_command("CLUSTER", "REPLICATE", ids[self.masters[k // self.per_master].name])
        self.wait_ok()

    @staticmethod
    def _bus(node: Node) -> int:
        return int(next(line.split()[1] for line in node.lines if line.startswith("cluster-port ")))

    def _knows_all(self, node: Node) -> bool:
        table = self.table(node)
        return len(table) == len(self.nodes) and not any(
            "handshake" in row["flags"] or "noaddr" in row["flags"] for row in table)

    @staticmethod
    def table(node: Node) -> list[dict]:
        """CLUSTER NODES as node sees it: id, port, flags (set), master id, slots (ranges)."""
        with node.client() as client:
            text = client.execute_command("CLUSTER", "NODES")
        rows = []
        for line in text.splitlines():
            f = line.split()
            slots = [tuple(int(x) for x in (s.split("-") * 2)[:2]) for s in f[8:] if not s.startswith("[")]
            rows.append({"id": f[0], "port": int(f[1].split(":")[1].split("@")[0]),
                         "flags": set(f[2].split(",")), "master": f[3], "slots": slots})
        return rows

    def live(self) -> list[Node]:
        return [n for n in self.nodes if n.alive]

    def wait_ok(self) -> None:
        """Until every live node says cluster_state:ok, sees no node failing, and every live
        replica has synced with its master."""
        def ok() -> bool:
            for node in self.live():
                if node.info("cluster")["cluster_enabled"] != 1:
                    return False
                with node.client() as client:
                    if "cluster_state:ok" not in client.execute_command("CLUSTER", "INFO"):
                        return False
                up = {n.port for n in self.live()}
                if any(("fail" in r["flags"] or "fail?" in r["flags"]) and r["port"] in up
                       for r in self.table(node)):
                    return False
                info = node.info()
                if info["role"] == "slave" and info["master_link_status"] != "up":
                    return False
            return len({self._shape(n) for n in self.live()}) == 1  # all agree who serves what
        until(ok, "reach cluster_state:ok on every node", self.nodes)

    def _shape(self, node: Node) -> frozenset:
        up = {n.port for n in self.live()}
        ports = {r["id"]: r["port"] for r in self.table(node)}
        return frozenset((r["port"], "master" in r["flags"], ports.get(r["master"]), tuple(r["slots"]))
                         for r in self.table(node) if r["port"] in up)

    def node_on(self, port: int) -> Node:
        return next(n for n in self.nodes if n.port == port)

    def master_of(self, slot_or_key: int | str) -> Node:
        owner = self._owner(slot_or_key)
        if owner is None:
            raise RedisServerError(f"no master owns the slot of {slot_or_key!r}")
        return owner

    def _owner(self, slot_or_key: int | str) -> Node | None:
        slot = slot_or_key if isinstance(slot_or_key, int) else key_slot(slot_or_key.encode())
        for row in self.table(self.live()[0]):
            if "master" in row["flags"] and "fail" not in row["flags"] \
                    and any(a <= slot <= b for a, b in row["slots"]):
                return self.node_on(row["port"])
        return None

    def live_masters(self) -> list[Node]:
        """The nodes that are masters now (after a failover, some of `replicas`)."""
        return [n for n in self.live() if n.info()["role"] == "master"]

    def move_slot(self, slot: int, to: Node) -> None:
        """Reshard one slot to another master as redis-cli does (IMPORTING, MIGRATING, MIGRATE
        of its keys, then NODE on every master); clients learn of it from MOVED."""
        source = self.master_of(slot)
        ids = {row["port"]: row["id"] for row in self.table(source)}
        with to.client(timeout=5) as dst, source.client(timeout=5) as src:
            dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[source.port])
            src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[to.port])
            while keys := src.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100):
                src.execute_command("MIGRATE", "127.0.0.1", to.port, "", 0, 5000, "KEYS", *keys)
            for master in self.live_masters():
                with master.client(timeout=5) as client:
                    client.execute_command("CLUSTER", "SETSLOT", slot, "NODE", ids[to.port])
        until(lambda: self._owner(slot) is to, f"move slot {slot}", self.nodes)

    def replica_of(self, master: Node) -> Node:
        table = self.table(self.live()[0])
        master_id = next(r["id"] for r in table if r["port"] == master.port)
        return next(self.node_on(r["port"]) for r in table
                    if r["master"] == master_id and self.node_on(r["port"]).alive)

    def _promoted(self, node: Node, slot_or_key: int | str) -> Callable[[], bool]:
        def check() -> bool:
            return node.info()["role"] == "master" and self._owner(slot_or_key) is node
        return check

    def failover(self, slot_or_key: int | str) -> Node:
        """CLUSTER FAILOVER on the replica of the master owning that slot (or key's slot), until
        it is the master and the cluster is ok. The new master."""
        replica = self.replica_of(self.master_of(slot_or_key))
        with replica.client() as client:
            client.execute_command("CLUSTER", "FAILOVER")
        until(self._promoted(replica, slot_or_key), "promote the replica", self.nodes)
        self.wait_ok()
        return replica

    def kill_master_of(self, slot_or_key: int | str) -> Node:
        """kill -9 of the master owning that slot, until its replica is promoted and the cluster
        is ok. The killed node (restart it with restart())."""
        master = self.master_of(slot_or_key)
        replica = self.replica_of(master)
        master.kill()
        until(self._promoted(replica, slot_or_key), "fail over after kill -9 of a master", self.nodes)
        self.wait_ok()
        return master

    def restart(self, node: Node) -> None:
        """Start a stopped node again (it keeps its nodes.conf), until the cluster is ok and
        it, if a replica now, has synced."""
        node.start()
        self.wait_ok()

    def client(self) -> redis.RedisCluster:
        node = self.live()[0]
        return redis.RedisCluster(host="127.0.0.1", port=node.port, decode_responses=True, socket_timeout=5)

    def flushall(self) -> None:
        for node in self.live():
            if node.info()["role"] == "master":
                with node.client(5) as client:
                    client.flushall()
                    client.wait(self.per_master, 5000)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
