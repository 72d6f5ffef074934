"""Real local Redis topologies for the tests: a Sentinel set and a Cluster, as child processes.

Every node is a redis-server (ratingsvc.embedded.find_binary; a sentinel is the same binary
with --sentinel) on 127.0.0.1 on a free port, with its config file, data and log in a
directory of its own. Each wait is bounded and fails with the node's log lines.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import redis
from redis.crc import key_slot

from ratingsvc.embedded import RedisServerError, find_binary, free_port

START_TIMEOUT = 10.0
CHANGE_TIMEOUT = 30.0  # a failover, a rejoin, a cluster forming
SERVICE = "rs-master"
SLOTS = 16384
COMMON = ["bind 127.0.0.1", "protected-mode no", 'save ""', "appendonly yes", "appendfsync everysec",
          "repl-diskless-sync-delay 0"]  # no 5 s wait before a full sync to a replica


class Node:
    """One redis-server (or sentinel) with its config file: restart() keeps what Redis wrote
    into it (a sentinel's state, `replicaof` after a failover)."""

    def __init__(self, directory: Path, name: str, lines: list[str], sentinel: bool = False) -> None:
        self.directory = (directory / name).resolve()
        self.name, self.sentinel = name, sentinel
        self.port = free_port()
        self.conf = self.directory / ("sentinel.conf" if sentinel else "redis.conf")
        self.lines = [f"port {self.port}", f"dir {self.directory}", f"logfile {self.logfile}",
                      *(["bind 127.0.0.1", "protected-mode no"] if sentinel else COMMON), *lines]
        self.process: subprocess.Popen | None = None

    @property
    def logfile(self) -> Path:
        return self.directory / "redis.log"

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def client(self, timeout: float = 1.0) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True, socket_timeout=timeout,
                           socket_connect_timeout=timeout)

    def start(self) -> Node:
        self.directory.mkdir(parents=True, exist_ok=True)
        if not self.conf.exists():
            self.conf.write_text("\n".join(self.lines) + "\n")
        args = [find_binary(), str(self.conf)] + (["--sentinel"] if self.sentinel else [])
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        with self.client(0.5) as client:
            self.wait(client.ping, "answer PING", START_TIMEOUT)
        return self

    def info(self, section: str = "replication") -> dict:
        with self.client() as client:
            return client.info(section)

    def wait(self, check: Callable[[], object], what: str, seconds: float = CHANGE_TIMEOUT) -> None:
        """Until check() is true (a Redis error counts as not yet), or fail with the log."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                break
            try:
                if check():
                    return
            except (redis.RedisError, OSError):
                pass
            time.sleep(0.05)
        self.fail(f"did not {what} within {seconds:.0f} s")

    def fail(self, message: str) -> None:
        log = self.logfile.read_text(errors="replace")[-3000:] if self.logfile.exists() else ""
        raise RedisServerError(f"{self.name} (port {self.port}) {message}:\n{log}")

    def kill(self) -> None:
        """kill -9: no shutdown, no last write of its append-only file."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.alive:
            assert self.process is not None
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def until(check: Callable[[], object], what: str, nodes: list[Node], seconds: float = CHANGE_TIMEOUT) -> None:
    """Until check() is true, or fail with the logs of `nodes`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.05)
    logs = "\n".join(f"--- {n.name}\n" + (n.logfile.read_text(errors="replace")[-1500:]
                                          if n.logfile.exists() else "") for n in nodes)
    raise RedisServerError(f"did not {what} within {seconds:.0f} s:\n{logs}")


def pairs(reply: list | dict) -> dict:
    """A reply of field-value pairs as a dict (redis-py parses some SENTINEL replies itself)."""
    if isinstance(reply, dict):
        return reply
    return dict(zip(reply[::2], reply[1::2], strict=True))


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
        until(self._promoted(old.address), "fail over after kill -9 of the master", self.nodes + self.sentinels)
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
