"""Real local Redis topologies for the tests, as child processes: a Sentinel set (here) and
a Cluster (tests/clusterset.py). Nodes: tests/redisnodes.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import redis

from ratingsvc.embedded import RedisServerError
from tests.clusterset import ClusterSet
from tests.redisnodes import Node, pairs, until

__all__ = ["ClusterSet", "SentinelSet"]

SERVICE = "rs-master"


class SentinelSet:
    """A master (append-only), `replicas` replicas and `sentinels` sentinels watching SERVICE
    with quorum 2, down after 1 s, failover timeout 5 s."""

    def __init__(self, directory: Path, replicas: int = 1, sentinels: int = 3) -> None:
        self.master = Node(directory, "master", [])
        self.replicas = [Node(directory, f"replica{i}", [f"replicaof 127.0.0.1 {self.master.port}"])
                         for i in range(replicas)]
        self.sentinels = [Node(directory, f"sentinel{i}", [
            f"sentinel monitor {SERVICE} 127.0.0.1 {self.master.port} 2",
            f"sentinel down-after-milliseconds {SERVICE} 1000",
            f"sentinel failover-timeout {SERVICE} 5000"], sentinel=True) for i in range(sentinels)]

    @property
    def nodes(self) -> list[Node]:
        return [self.master, *self.replicas]

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{SERVICE}/0"

    def start(self) -> SentinelSet:
        try:
            for node in [*self.nodes, *self.sentinels]:
                node.start()
            for replica in self.replicas:
                replica.wait(lambda r=replica: r.info()["master_link_status"] == "up", "sync with the master")
            for s in self.sentinels:  # each knows the others and the replicas: a failover can happen
                s.wait(lambda s=s: self._sees_all(s), "see the other sentinels and the replicas")
        except BaseException:
            self.stop()
            raise
        return self

    def _sees_all(self, sentinel: Node) -> bool:
        with sentinel.client() as client:
            state = pairs(client.execute_command("SENTINEL", "MASTER", SERVICE))
            links = [pairs(r) for r in client.execute_command("SENTINEL", "REPLICAS", SERVICE)]
        return (int(state["num-other-sentinels"]) == len(self.sentinels) - 1
                and sum(r.get("master-link-status") == "ok" for r in links) == len(self.replicas))

    def master_address(self) -> tuple[str, int]:
        """The master as a sentinel answers (the first that answers)."""
        for s in self.sentinels:
            try:
                with s.client() as client:
                    host, port = client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)
                return host, int(port)
            except (redis.RedisError, OSError):
                continue
        raise RedisServerError("no sentinel answers")

    def node_at(self, address: tuple[str, int]) -> Node:
        return next(n for n in self.nodes if n.address == address)

    def current_master(self) -> Node:
        return self.node_at(self.master_address())

    def _promoted(self, old: tuple[str, int]) -> Callable[[], bool]:
        """Every sentinel names the same master, not `old`, flagged only "master" (no failover
        under way, not down), and that node says it is the master."""
        def check() -> bool:
            views = []
            for s in self.sentinels:
                with s.client() as client:
                    views.append(pairs(client.execute_command("SENTINEL", "MASTER", SERVICE)))
            addresses = {(v["ip"], int(v["port"])) for v in views}
            if len(addresses) != 1 or old in addresses or any(v["flags"] != "master" for v in views):
                return False
            return self.node_at(addresses.pop()).info()["role"] == "master"
        return check

    def failover(self) -> Node:
        """SENTINEL FAILOVER, then until a sentinel names another master that says it is one
        and the old master follows it. The new master."""
        old = self.current_master()
        with self.sentinels[0].client() as client:
            client.execute_command("SENTINEL", "FAILOVER", SERVICE)
        until(self._promoted(old.address), "promote a replica", self.nodes + self.sentinels)
        new = self.current_master()
        self.wait_replica(old, new)
        return new

    def kill_master(self) -> Node:
        """kill -9 of the master, then until the sentinels promote a replica. The killed node
        (restart it with restart())."""
        old = self.current_master()
        old.kill()
        until(self._promoted(old.address), "fail over after kill -9 of the master",
              self.nodes + self.sentinels)
        return old

    def wait_replica(self, node: Node, master: Node) -> None:
        def following() -> bool:
            info = node.info()
            return (info["role"] == "slave" and info["master_port"] == master.port
                    and info["master_link_status"] == "up")
        node.wait(following, f"follow the master on port {master.port}")

    def restart(self, node: Node) -> None:
        """Start a stopped node again; a former master waits until the sentinels have made it
        a replica of the current master and it has synced."""
        node.start()
        master = self.current_master()
        if node is not master:
            self.wait_replica(node, master)

    def master_client(self) -> redis.Redis:
        host, port = self.master_address()
        return redis.Redis(host=host, port=port, decode_responses=True, socket_timeout=5)

    def flushall(self) -> None:
        with self.master_client() as client:
            client.flushall()
            client.wait(len(self.replicas), 5000)

    def stop(self) -> None:
        for node in [*self.sentinels, *self.nodes]:
            node.stop()
