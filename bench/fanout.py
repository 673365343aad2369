#!/usr/bin/env python3
"""Fan-out benchmark: one deployment step on N loopback "hosts", TAD next to Ansible.

The step: copy a 10 MiB .tar.gz artifact to a directory of the host's own, then run a short
bash script there (it checks the artifact's size and writes a `deployed` marker). Every host is
an address of 127.0.0.0/8 served by ONE sshd (MaxStartups/MaxSessions raised), logging in as
the key-authenticated user `tadbench`.

TAD: the release `tad serve` (all services in one process, SQLite, local object store) with
TAD_EXECUTION_PARALLEL_HOSTS = the largest host count, configured through the HTTP API like
`configure` in tad/tests/e2e/execution/mod.rs (catalog, cluster of N hosts by private key, package-sync artifact,
reviewed script, template with the built-in custom method `cu1`, instance with the artifact and
the script bound per host), then 6.1 (`POST .../executionall`, held until done) timed from the
client. Peak RSS is the process's VmHWM, reset before each run (`echo 5 > clear_refs`), so it
is the peak of that run, for the whole process (gateway + every service).

Ansible (`ansible-core` in a venv): an inventory of the same N addresses, a playbook of `copy`
(the same file) + `script` (the same script), `gather_facts: false`, `ansible-playbook -f N`.

For each N (default 50 and 200) each tool runs three times: `cold` and `warm` with the
destinations wiped before (cold: TAD pins every host key on first use; Ansible has no
ControlPersist master yet; warm: TAD connects again, it keeps no connections; Ansible reuses the
masters of the cold run, which live 60 s), then `unchanged`: the same deployment again onto
hosts that hold the artifact already (TAD asks each host for the file's md5 and sends nothing;
Ansible's `copy` compares checksums and sends nothing either). Each run is checked on every
host: success reported, artifact md5 and marker on disk; an unchanged run also that no
artifact file was written again (same inode and modification time) and, for TAD, that the run
tree counts no artifact sent.

    sudo python3 bench/fanout.py                    # 50 and 200 hosts
    sudo python3 bench/fanout.py --hosts 20 --no-ansible

Needs root, /usr/sbin/sshd, ssh, tar; builds `tad` in release mode (CARGO_TARGET_DIR is
honoured) unless --tad or --no-build; makes the venv (default /tmp/tad-fanout-venv) on first use.
"""

import argparse
import hashlib
import json
import os
import re
import resource
import signal
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
USER = "tadbench"
ADMIN_PASSWORD = "fanout-admin-password"
REVIEWER = ("fanout-reviewer", "fanout-reviewer-pw")
SCRIPT = """#!/bin/bash
# deploy.sh DIR: checks the pushed artifact and records the deployment in DIR/deployed.
set -eu
cd "$1"
size=$(stat -c %s artifacts/bench.tar.gz)
echo "deployed bench.tar.gz ($size bytes) as $(whoami) in $1" > deployed
echo "deployed $size bytes"
"""


def log(message):
    print(message, flush=True)


def run(*args, **kwargs):
    return subprocess.run([str(arg) for arg in args], check=True, **kwargs)


def md5_file(path):
    digest = hashlib.md5()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def free_port():
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        return sock.getsockname()[1]


def host_ips(group, count):
    """`count` addresses 127.0.<group>.1 ... (a group is at most 254 hosts)."""
    assert count <= 254
    return [f"127.0.{group}.{index}" for index in range(1, count + 1)]


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def proc_stat(pid):
    """(ppid, own CPU s, CPU s of reaped children) of a process, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    reaped = (int(fields[13]) + int(fields[14])) / CLOCK_TICKS
    return int(fields[1]), own, reaped


def tree_cpu(root_pid):
    """CPU seconds used so far by a process and every descendant, living or reaped (a dead
    process counts in its parent once reaped), so the difference of two readings is the CPU a
    tree used in between."""
    children, times = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid, own, reaped = proc_stat(entry)
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
            times[int(entry)] = own + reaped
    total, stack = 0.0, [root_pid]
    while stack:
        pid = stack.pop()
        total += times.get(pid, 0.0)
        stack.extend(children.get(pid, []))
    return total


def machine_busy():
    """CPU seconds the whole machine spent busy so far (every process, every core)."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / CLOCK_TICKS


def cpu_text(cpu, seconds):
    parts = ", ".join(f"{name} {value:.1f}" for name, value in cpu.items() if name != "machine")
    capacity = seconds * os.cpu_count()
    return (f"CPU s: {parts}; machine busy {cpu['machine']:.1f} of {capacity:.1f} "
            f"({100 * cpu['machine'] / capacity:.0f}%, other work included)")


# ---------------------------------------------------------------------------------------------
# sshd


class Sshd:
    def __init__(self, root):
        # StrictModes: the authorized keys file and its directories must not be group or world
        # writable (rules out /tmp) and sshd reads the file as the user: /run, 0755 / 0644.
        self.dir = Path(tempfile.mkdtemp(prefix="tad-fanout-sshd-", dir="/run"))
        os.chmod(self.dir, 0o755)
        self.client_key = self.dir / "client_key"
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "tad-fanout", "-f", self.client_key)
        keys = self.dir / "authorized_keys"
        keys.mkdir(mode=0o755)
        os.chmod(keys, 0o755)
        shutil.copy(self.client_key.with_suffix(".pub"), keys / USER)
        os.chmod(keys / USER, 0o644)
        host_key = self.dir / "host_key"
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", host_key)
        self.port = free_port()
        config = self.dir / "sshd_config"
        config.write_text(
            f"Port {self.port}\nListenAddress 0.0.0.0\nHostKey {host_key}\n"
            f"PidFile {self.dir / 'sshd.pid'}\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nUsePAM no\n"
            f"PermitRootLogin no\nAllowUsers {USER}\nAuthorizedKeysFile {keys}/%u\n"
            "MaxStartups 1000:30:2000\nMaxSessions 64\nLogLevel ERROR\n"
        )
        Path("/run/sshd").mkdir(exist_ok=True)
        self.log = self.dir / "sshd.log"
        self.process = subprocess.Popen(
            ["/usr/sbin/sshd", "-D", "-f", str(config), "-E", str(self.log)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.process.poll() is not None or time.time() > deadline:
                    raise SystemExit(f"sshd did not start: {self.log.read_text()}")
                time.sleep(0.05)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def ensure_user():
    if subprocess.run(["id", USER], capture_output=True).returncode != 0:
        run("useradd", "-m", "-s", "/bin/bash", USER)
    # `*`: no password, but unlike useradd's `!` not a locked account (sshd without PAM refuses
    # locked accounts even with a valid key).
    run("usermod", "-s", "/bin/bash", "-p", "*", USER)


# ---------------------------------------------------------------------------------------------
# TAD through its HTTP API


class Api:
    def __init__(self, base, token=None):
        self.base = base
        self.token = token

    def _send(self, method, path, data=None, content_type=None, timeout=600):
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if content_type:
            request.add_header("Content-Type", content_type)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                text = response.read()
        except urllib.error.HTTPError as error:
            text = error.read()
        body = json.loads(text)
        if body.get("success") is not True:
            raise SystemExit(f"{method} {path} failed: {body}")
        return body["data"]

    def post(self, path, body, timeout=600):
        return self._send("POST", path, json.dumps(body).encode(), "application/json", timeout)

    def get(self, path):
        return self._send("GET", path)

    def post_multipart(self, path, files, fields=()):
        boundary = uuid.uuid4().hex
        parts = []
        for name, content in files:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
                + content + b"\r\n"
            )
        for name, value in fields:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        data = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self._send("POST", path, data, f"multipart/form-data; boundary={boundary}")

    def login(self, username, password):
        data = self.post("/api/auth/login", {"username": username, "password": password})
        return Api(self.base, data["token"])


class Tad:
    def __init__(self, binary, root, parallel_hosts, wrap=(), parallel_uploads=None):
        self.log_path = root / "tad.log"
        self.log_file = open(self.log_path, "wb")
        env = {name: value for name, value in os.environ.items() if not name.startswith("TAD_")}
        env.update({
            "TAD_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "TAD_EXECUTION_PARALLEL_HOSTS": str(parallel_hosts),
            **({"TAD_EXECUTION_PARALLEL_UPLOADS": str(parallel_uploads)} if parallel_uploads else {}),
            "TAD_EXECUTION_WORK_DIR": str(root / "work"),
            "TAD_SSH_TIMEOUT_SECS": "60",
            "RUST_LOG": os.environ.get("RUST_LOG", "info"),
        })
        self.process = subprocess.Popen(
            [*wrap, str(binary), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(root / "data")],
            env=env, stdin=subprocess.DEVNULL, stdout=self.log_file, stderr=subprocess.STDOUT,
        )
        self.pid = self.process.pid
        deadline = time.time() + 120
        while True:
            found = re.search(rb"TAD is listening on (\S+)", self.log_path.read_bytes())
            if found:
                self.url = found.group(1).decode()
                break
            if self.process.poll() is not None or time.time() > deadline:
                raise SystemExit(f"tad serve did not start:\n{self.log_path.read_text()}")
            time.sleep(0.1)
        if wrap:
            self.pid = self.find_tad(binary)

    def find_tad(self, binary):
        """The `tad` process under a wrapper command (its descendant running the binary)."""
        pending = [self.process.pid]
        while pending:
            pid = pending.pop()
            try:
                if Path(f"/proc/{pid}/exe").resolve() == Path(binary).resolve():
                    return pid
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            pending += [int(child) for child in children]
        raise SystemExit(f"no {binary} process under the wrapper {self.process.pid}")

    def status_kib(self, field):
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise KeyError(field)

    def reset_peak(self):
        # Resets VmHWM to the current RSS (Linux >= 4.0).
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def stop(self):
        if self.pid != self.process.pid:
            os.kill(self.pid, signal.SIGTERM)  # the tad under a wrapper first
        self.process.terminate()
        try:
            self.process.wait(40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log_file.close()


def configure_catalog(api, reviewer, artifact, script):
    """Everything the deployments share: catalog, artifact, reviewed script, template."""
    for path, body in [
        ("/api/admin/productlines", {"id": "plfan", "name": "fanout"}),
        ("/api/admin/applications", {"id": "appfan", "name": "fanout", "product_line_id": "plfan"}),
        ("/api/admin/envs", {"id": "envfan", "name": "bench"}),
    ]:
        api.post(path, body)
    content = artifact.read_bytes()
    data = api.post_multipart(
        f"/api/artifact/version/aos?app_id=appfan&version=1.0.0&name=bench&md5={md5_file(artifact)}",
        [("bench.tar.gz", content)],
    )
    artifact_file = data["file_id"]
    script_bytes = script.read_bytes()
    data = api.post_multipart(
        "/api/artifact/script/aos_upload",
        [("deploy.sh", script_bytes)],
        [("app_id", "appfan"), ("name", "deploy"),
         ("file_md5", json.dumps({"deploy.sh": hashlib.md5(script_bytes).hexdigest()}))],
    )
    script_file, script_version = data[0]["file_id"], data[0]["version_id"]
    reviewer.post(f"/api/script/index/examine/{script_version}",
                  {"method_id": script_version, "status": "able"})
    template = api.post("/api/app/jobtemplate/create",
                        {"name": "fanout", "application_id": "appfan"})["id"]
    api.post(f"/api/app/jobtemplate/{template}/graded",
             {"method": [{"component_id": "custom", "method_id": "cu1", "sequence": 0}]})
    return artifact_file, script_file, template


def configure_instance(api, ips, port, private_key, dest_of, artifact_file, script_file, template):
    """A cluster of the given hosts and an instance deploying to it; answers the instance id."""
    count = len(ips)
    cluster = api.post("/api/resource/clusters/aos_create",
                       {"name": f"fanout-{count}", "env_id": "envfan", "app_id": "appfan"})["id"]
    host_ids = []
    for ip in ips:
        host_ids.append(api.post("/api/resource/hosts/aos_create", {
            "host_IP": ip, "host_name": f"fan-{ip}", "ssh_user": USER, "ssh_port": str(port),
            "ssh_private_key": private_key, "productLine_id": "plfan", "env_id": "envfan",
        })["id"])
    api.post(f"/api/resource/clusters/{cluster}/aos_bind", {"hosts": host_ids})
    instance = api.post("/api/app/jobinstance/create", {
        "name": f"fanout-{count}", "env_id": "envfan", "application_id": "appfan",
        "job_template_id": template,
    })["id"]
    api.post(f"/api/app/jobinstance/{instance}/cu1/0/relation/alldata", {
        "cluster": {"cluster_id": cluster},
        "artifacts": [{"file_id": artifact_file, "dest": f"{dest_of(ip)}/artifacts",
                       "host_IP": [ip]} for ip in ips],
        "scripts": {"scripts_data": [{"id": script_file, "dest": f"{dest_of(ip)}/scripts",
                                      "host_IP": [ip], "parameter": dest_of(ip),
                                      "execute_type": "shell"} for ip in ips]},
    })
    status = api.get(f"/api/app/jobinstance/{instance}/details")["status"]
    if status != "ready":
        raise SystemExit(f"instance {instance} is {status}, not ready")
    return instance


def parse_time(text):
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S") if text else None


def tree_summary(tree):
    """Where the time went, from the run tree (its times have 1 s resolution)."""
    hosts = [host for step in tree["steps"] for host in step["hosts"]]
    starts = [parse_time(host.get("start_time")) for host in hosts]
    ends = [parse_time(host.get("end_time")) for host in hosts]
    if not all(starts) or not all(ends):
        return "run tree has hosts without start/end times"
    zero = min(starts)
    durations = sorted((end - start).total_seconds() for start, end in zip(starts, ends))
    return (
        f"run tree: hosts started within {(max(starts) - zero).total_seconds():.0f} s of the first, "
        f"ended {(min(ends) - zero).total_seconds():.0f}..{(max(ends) - zero).total_seconds():.0f} s "
        f"after it; per host min {durations[0]:.0f} s, median {statistics.median(durations):.0f} s, "
        f"max {durations[-1]:.0f} s"
    )


def run_tad(api, tad, sshd, instance, ips, dest_of, md5):
    tad.reset_peak()
    before = tad.status_kib("VmRSS")
    cpu0 = (proc_stat(tad.pid)[1], tree_cpu(sshd.process.pid), machine_busy())
    started = time.time()
    data = api.post(f"/api/app/jobinstance/{instance}/executionall", {"use_tad_host": False},
                    timeout=3600)
    seconds = time.time() - started
    peak = tad.status_kib("VmHWM")
    cpu1 = (proc_stat(tad.pid)[1], tree_cpu(sshd.process.pid), machine_busy())
    cpu = dict(zip(("tad", "sshd", "machine"), (b - a for a, b in zip(cpu0, cpu1))))
    tree = api.get(f"/api/executions/{data['execution_id']}")
    failures = []
    if data.get("result") is not True or tree["status"] != "success":
        failures.append(f"run {data['execution_id']}: result {data.get('result')}, msg {data.get('msg')}")
    statuses = {host["host_ip"]: host["status"] for step in tree["steps"] for host in step["hosts"]}
    failures += [f"{ip}: status {statuses.get(ip)}" for ip in ips if statuses.get(ip) != "success"]
    failures += check_hosts(ips, dest_of, md5)
    after = f"anon {tad.status_kib('RssAnon') / 1024:.1f} + file {tad.status_kib('RssFile') / 1024:.1f} MiB"
    return {"seconds": seconds, "rss_before_kib": before, "peak_kib": peak, "failures": failures,
            "rss_after": after,
            "detail": tree_summary(tree), "cpu": cpu, "run": data["execution_id"]}


def artifact_stamps(ips, dest_of):
    """(inode, mtime ns) of each host's artifact file, None where there is none."""
    stamps = {}
    for ip in ips:
        try:
            meta = (Path(dest_of(ip)) / "artifacts" / "bench.tar.gz").stat()
            stamps[ip] = (meta.st_ino, meta.st_mtime_ns)
        except FileNotFoundError:
            stamps[ip] = None
    return stamps


def unchanged_failures(ips, before, after):
    return [f"{ip}: artifact written again" for ip in ips if before[ip] is None
            or before[ip] != after[ip]]


def check_hosts(ips, dest_of, md5):
    failures = []
    for ip in ips:
        dest = Path(dest_of(ip))
        artifact = dest / "artifacts" / "bench.tar.gz"
        if not artifact.exists():
            failures.append(f"{ip}: no artifact")
        elif md5_file(artifact) != md5:
            failures.append(f"{ip}: artifact md5 differs")
        elif artifact.stat().st_uid != USER_UID:
            failures.append(f"{ip}: artifact not written by {USER}")
        marker = dest / "deployed"
        if not marker.exists() or f"in {dest}" not in marker.read_text():
            failures.append(f"{ip}: no deployed marker")
    return failures


def reset_dests(ips, dest_of):
    for ip in ips:
        dest = Path(dest_of(ip))
        shutil.rmtree(dest, ignore_errors=True)
        for sub in ("artifacts", "scripts"):
            (dest / sub).mkdir(parents=True)
        run("chown", "-R", f"{USER}:{USER}", dest)


# ---------------------------------------------------------------------------------------------
# Ansible


def ensure_ansible(venv):
    playbook = venv / "bin" / "ansible-playbook"
    if not playbook.exists():
        log(f"== installing ansible-core into {venv}")
        run(sys.executable, "-m", "venv", venv)
        run(venv / "bin" / "pip", "install", "-q", "ansible-core")
    version = subprocess.run([str(playbook), "--version"], capture_output=True, text=True).stdout
    log("   " + version.splitlines()[0])
    return playbook


def tree_rss_kib(root_pid):
    """Σ VmRSS of a process and its descendants (forks share pages: an overstatement)."""
    children, rss = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        pid = int(entry)
        children.setdefault(int(fields["PPid"]), []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def stop_control_masters(control_dir):
    """Ends the ssh ControlPersist masters this script's Ansible runs left (by pid)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if cmdline.startswith(b"ssh") and str(control_dir).encode() in cmdline:
            try:
                os.kill(int(entry), 15)
            except ProcessLookupError:
                pass


def masters_cpu(control_dir):
    """CPU seconds of the living ssh ControlPersist masters of this script's Ansible runs."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
                if cmdline.startswith(b"ssh") and str(control_dir).encode() in cmdline:
                    total += sum(proc_stat(entry)[1:])
            except (OSError, IndexError):
                continue
    return total


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_ansible(playbook_bin, work, ips, sshd, key, artifact, script, dest_of, md5, control_dir):
    port = sshd.port
    inventory = work / "inventory.ini"
    inventory.write_text("[fanout]\n" + "".join(
        f"{ip} ansible_host={ip} ansible_port={port} ansible_user={USER} dest={dest_of(ip)}\n"
        for ip in ips))
    play = work / "play.yml"
    play.write_text(
        "- hosts: fanout\n  gather_facts: false\n  tasks:\n"
        f"    - name: push the artifact\n      copy: {{src: {artifact}, dest: \"{{{{ dest }}}}/artifacts/bench.tar.gz\"}}\n"
        f"    - name: run the script\n      script: {script} {{{{ dest }}}}\n"
    )
    env = dict(os.environ)
    env.update({
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_PRIVATE_KEY_FILE": str(key),
        "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3",
        "ANSIBLE_TIMEOUT": "60",
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control_dir),
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_LOCAL_TEMP": str(work / "ansible-local"),
        "ANSIBLE_NOCOLOR": "1",
    })
    output_path = work / f"ansible-{len(ips)}-{int(time.time())}.log"
    with open(output_path, "wb") as output:
        cpu0 = (children_cpu() + masters_cpu(control_dir), tree_cpu(sshd.process.pid),
                machine_busy())
        started = time.time()
        process = subprocess.Popen(
            [str(playbook_bin), "-f", str(len(ips)), "-i", str(inventory), str(play)],
            env=env, cwd=work, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
        )
        peak = 0
        while process.poll() is None:
            peak = max(peak, tree_rss_kib(process.pid))
            time.sleep(1)
        seconds = time.time() - started
        # The ControlPersist masters outlive the run, their sshd peers too: both are counted
        # while they live (and the masters are reused by the next run).
        cpu1 = (children_cpu() + masters_cpu(control_dir), tree_cpu(sshd.process.pid),
                machine_busy())
    cpu = dict(zip(("ansible+ssh", "sshd", "machine"), (b - a for a, b in zip(cpu0, cpu1))))
    text = output_path.read_text(errors="replace")
    failures = [] if process.returncode == 0 else [f"ansible-playbook exited {process.returncode}"]
    recap = dict(re.findall(r"^(\S+)\s+: ok=\d+\s+changed=\d+\s+(unreachable=\d+\s+failed=\d+)", text, re.M))
    failures += [f"{ip}: {recap.get(ip, 'not in the recap')}" for ip in ips
                 if recap.get(ip, "").split() != ["unreachable=0", "failed=0"]]
    failures += check_hosts(ips, dest_of, md5)
    return {"seconds": seconds, "peak_kib": peak, "failures": failures, "cpu": cpu,
            "log": str(output_path)}


# ---------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", default="50,200", help="host counts, comma separated")
    parser.add_argument("--size-mib", type=int, default=10)
    parser.add_argument("--tad", help="the tad binary (default: build it)")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--no-ansible", action="store_true")
    parser.add_argument("--venv", default="/tmp/tad-fanout-venv")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--parallel-hosts", type=int,
                        help="TAD_EXECUTION_PARALLEL_HOSTS (default: the largest host count)")
    parser.add_argument("--parallel-uploads", type=int,
                        help="TAD_EXECUTION_PARALLEL_UPLOADS (default: TAD's default)")
    parser.add_argument("--wrap", default="",
                        help="command prefix for tad serve, e.g. 'heaptrack -o /tmp/ht'")
    args = parser.parse_args()
    counts = [int(count) for count in args.hosts.split(",")]
    if os.geteuid() != 0:
        raise SystemExit("needs root (sshd, a user, chown)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    binary = Path(args.tad) if args.tad else target / "release" / "tad"
    if not args.tad and not args.no_build:
        run("cargo", "build", "--release", "-q", "-p", "tad", cwd=REPO)
    playbook_bin = None if args.no_ansible else ensure_ansible(Path(args.venv))

    ensure_user()
    global USER_UID
    USER_UID = int(subprocess.run(["id", "-u", USER], capture_output=True, text=True).stdout)
    work = Path(tempfile.mkdtemp(prefix="tad-fanout-", dir="/tmp"))
    os.chmod(work, 0o755)
    (work / "work").mkdir(mode=0o1777)
    os.chmod(work / "work", 0o1777)
    control_dir = work / "ansible-cp"
    control_dir.mkdir()
    sshd = tad = None
    results = []
    try:
        log(f"== work directory {work}; {os.cpu_count()} CPUs; "
            f"open files limit {hard}")
        artifact = work / "bench.tar.gz"
        payload = work / "payload"
        payload.mkdir()
        with open(payload / "bench.bin", "wb") as file:
            file.write(os.urandom(args.size_mib << 20))
        run("tar", "czf", artifact, "-C", payload, "bench.bin")
        shutil.rmtree(payload)
        md5 = md5_file(artifact)
        script = work / "deploy.sh"
        script.write_text(SCRIPT)
        log(f"   artifact {artifact.stat().st_size} bytes (md5 {md5}), script {len(SCRIPT)} bytes")

        sshd = Sshd(work)
        log(f"== sshd on 0.0.0.0:{sshd.port} (MaxStartups 1000:30:2000, MaxSessions 64), user {USER}")
        parallel_hosts = args.parallel_hosts or max(counts)
        tad = Tad(binary, work, parallel_hosts, args.wrap.split(), args.parallel_uploads)
        log(f"== tad serve at {tad.url}, pid {tad.pid}, TAD_EXECUTION_PARALLEL_HOSTS={parallel_hosts}, "
            f"TAD_EXECUTION_PARALLEL_UPLOADS={args.parallel_uploads or 'default'}, "
            f"idle RSS {tad.status_kib('VmRSS') / 1024:.1f} MiB")
        api = Api(tad.url).login("admin", ADMIN_PASSWORD)
        api.post("/api/admin/users", {"username": REVIEWER[0], "password": REVIEWER[1],
                                      "roles": ["reviewer"]})
        reviewer = Api(tad.url).login(*REVIEWER)
        artifact_file, script_file, template = configure_catalog(api, reviewer, artifact, script)
        private_key = sshd.client_key.read_text()
        log(f"   configured (2 logins, 10 MiB package sync, script, template): RSS "
            f"{tad.status_kib('VmRSS') / 1024:.1f} MiB (anon {tad.status_kib('RssAnon') / 1024:.1f} + file "
            f"{tad.status_kib('RssFile') / 1024:.1f}), peak {tad.status_kib('VmHWM') / 1024:.1f} MiB")

        for group, count in enumerate(counts, start=1):
            ips = host_ips(group, count)
            log(f"\n== {count} hosts ({ips[0]} .. {ips[-1]})")
            tad_dest = lambda ip: f"{work}/dest/tad/{ip}"  # noqa: E731
            instance = configure_instance(api, ips, sshd.port, private_key, tad_dest,
                                          artifact_file, script_file, template)
            for label in ("cold", "warm", "unchanged"):
                if label != "unchanged":
                    reset_dests(ips, tad_dest)
                stamps = artifact_stamps(ips, tad_dest)
                result = run_tad(api, tad, sshd, instance, ips, tad_dest, md5)
                if label == "unchanged":
                    result["failures"] += unchanged_failures(ips, stamps,
                                                             artifact_stamps(ips, tad_dest))
                    tree = api.get(f"/api/executions/{result['run']}")
                    sent = sum(host.get("artifacts_sent", 0) for step in tree["steps"]
                               for host in step["hosts"])
                    if sent:
                        result["failures"].append(f"the run tree counts {sent} artifacts sent")
                result.update(tool="TAD", hosts=count, label=label)
                results.append(result)
                log(f"TAD      {label}: {result['seconds']:7.2f} s, peak RSS "
                    f"{result['peak_kib'] / 1024:.1f} MiB (before {result['rss_before_kib'] / 1024:.1f}, "
                    f"after: {result['rss_after']}), "
                    f"{'OK' if not result['failures'] else 'FAILED: ' + '; '.join(result['failures'][:5])}")
                log(f"         {result['detail']}")
                log(f"         {cpu_text(result['cpu'], result['seconds'])}")
            if playbook_bin is None:
                continue
            ansible_dest = lambda ip: f"{work}/dest/ansible/{ip}"  # noqa: E731
            for label in ("cold", "warm", "unchanged"):
                if label != "unchanged":
                    reset_dests(ips, ansible_dest)
                stamps = artifact_stamps(ips, ansible_dest)
                result = run_ansible(playbook_bin, work, ips, sshd, sshd.client_key,
                                     artifact, script, ansible_dest, md5, control_dir)
                if label == "unchanged":
                    result["failures"] += unchanged_failures(ips, stamps,
                                                             artifact_stamps(ips, ansible_dest))
                result.update(tool="Ansible", hosts=count, label=label)
                results.append(result)
                log(f"Ansible  {label}: {result['seconds']:7.2f} s, Σ RSS of its processes "
                    f"{result['peak_kib'] / 1024:.1f} MiB, "
                    f"{'OK' if not result['failures'] else 'FAILED: ' + '; '.join(result['failures'][:5])}")
                log(f"         {cpu_text(result['cpu'], result['seconds'])}")
            # Ansible's ControlPersist masters (60 s) would otherwise linger into the next count.
            stop_control_masters(control_dir)

        log(f"\n== results ({datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs, "
            f"{args.size_mib} MiB artifact + script, one sshd)")
        log(f"{'tool':8} {'hosts':>5} {'run':>9} {'wall s':>8} {'peak RSS':>18} {'speed-up':>9}  ok")
        for result in results:
            if result["tool"] == "TAD":
                peer = next((other for other in results if other["tool"] == "Ansible"
                             and other["hosts"] == result["hosts"]
                             and other["label"] == result["label"]), None)
                speedup = f"{peer['seconds'] / result['seconds']:8.1f}x" if peer else f"{'-':>9}"
                rss = f"{result['peak_kib'] / 1024:.1f} MiB"
            else:
                speedup = f"{'':>9}"
                rss = f"(Σ {result['peak_kib'] / 1024:.0f} MiB)"
            log(f"{result['tool']:8} {result['hosts']:5} {result['label']:>9} "
                f"{result['seconds']:8.2f} {rss:>18} {speedup}  "
                f"{'yes' if not result['failures'] else 'NO'}")
        log(f"TAD lifetime peak RSS (VmHWM of tad serve, all runs after the last reset): "
            f"{tad.status_kib('VmHWM') / 1024:.1f} MiB")
        if any(result["failures"] for result in results):
            raise SystemExit(1)
    finally:
        if tad:
            tad.stop()
            if args.keep:
                log(f"tad log: {tad.log_path}")
        stop_control_masters(control_dir)
        if sshd:
            sshd.stop()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


USER_UID = -1

if __name__ == "__main__":
    main()
