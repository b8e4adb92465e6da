"""What the schema validators cannot see in the deployment files: that they agree with each
other and with the service. Run by deploy/check.sh (needs PyYAML and crossplane, which it
installs); prints one line per check and exits 1 on the first file with problems.

- Every APP_* / DATABASE_URL variable given to the API image exists in src/config/settings.rs.
- docker-compose.yml: the API replicas skip migrations, read from the replica, trust the
  compose network, require APP_JWT_SECRET, stop after the shutdown timeout, depend on the
  one-shot migration; every mounted ./deploy file exists.
- nginx.conf parses (crossplane: directives, argument counts, contexts), its upstream is
  exactly the API services, it retries on error/timeout/502/503 and never non-idempotent.
- deploy/kubernetes: kustomization.yaml lists every manifest; probes, securityContext,
  grace period and APP_MIGRATE_ON_START as operators expect; the owner URL stays out of
  the API pods.
"""

import ipaddress
import re
import sys
from pathlib import Path

import crossplane
import yaml

ROOT = Path(__file__).resolve().parent.parent
problems: list[str] = []


def check(condition: bool, message: str) -> None:
    if not condition:
        problems.append(message)


def known_variables() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "src").rglob("*.rs"):
        names.update(re.findall(r'env = "([A-Z0-9_]+)"', path.read_text(encoding="utf-8")))
    return names


KNOWN = known_variables()


def app_variables(where: str, names) -> None:
    for name in names:
        if name.startswith("APP_") or name == "DATABASE_URL":
            check(name in KNOWN, f"{where}: {name} is not a setting of the service (src/config)")


def seconds(value: str) -> int:
    match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", str(value))
    assert match, value
    return int(match.group(1) or 0) * 60 + int(match.group(2) or 0)


def interpolate(text: str) -> str:
    """Compose's variable substitution with every variable unset: ${X:-default} is the
    default, ${X:?message} a placeholder, $$ a dollar."""
    text = text.replace("$$", "\0")
    text = re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", text)
    text = re.sub(r"\$\{([A-Z0-9_]+):\?[^}]*\}", r"<\1>", text)
    return text.replace("\0", "$")


def check_compose() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    compose = yaml.safe_load(interpolate(text))
    services = compose["services"]
    check(
        re.search(r"APP_JWT_SECRET: \$\{APP_JWT_SECRET:\?", text) is not None,
        "compose: APP_JWT_SECRET must be required (${APP_JWT_SECRET:?…})",
    )
    for name, service in services.items():
        for dependency in service.get("depends_on", {}) or {}:
            check(dependency in services, f"compose: {name} depends on unknown service {dependency}")
        for volume in service.get("volumes", []) or []:
            source = volume.split(":")[0]
            if source.startswith("./"):
                check((ROOT / source).exists(), f"compose: {name} mounts missing {source}")
        if service.get("image") == "therapist-directory:local":
            app_variables(f"compose {name}", (service.get("environment") or {}).keys())

    subnets = [
        ipaddress.ip_network(pool["subnet"])
        for network in (compose.get("networks") or {}).values()
        for pool in ((network or {}).get("ipam") or {}).get("config", [])
    ]
    apis = sorted(name for name in services if name.startswith("api-"))
    check(len(apis) >= 2, "compose: expected at least two API replicas api-1, api-2")
    for name in apis:
        service = services[name]
        env = service.get("environment") or {}
        where = f"compose {name}"
        check(str(env.get("APP_MIGRATE_ON_START")).lower() == "false", f"{where}: APP_MIGRATE_ON_START must be false")
        check("@primary:" in env.get("DATABASE_URL", ""), f"{where}: DATABASE_URL must name the primary")
        check("directory_app:" in env.get("DATABASE_URL", ""), f"{where}: DATABASE_URL must log in as directory_app")
        check("@replica:" in env.get("APP_DATABASE_READ_URL", ""), f"{where}: APP_DATABASE_READ_URL must name the replica")
        check("APP_DATABASE_OWNER_URL" not in env, f"{where}: the API replicas must not get the owner's URL")
        check(env.get("APP_SMTP_URL", "").startswith("smtp://mailpit:"), f"{where}: mail must go to Mailpit")
        trusted = [ipaddress.ip_network(p.strip(), strict=False) for p in env.get("APP_TRUSTED_PROXIES", "").split(",") if p.strip()]
        check(
            any(subnet.subnet_of(net) for subnet in subnets for net in trusted if subnet.version == net.version),
            f"{where}: APP_TRUSTED_PROXIES must cover the compose network {subnets}",
        )
        timeout = int(env.get("APP_SHUTDOWN_DRAIN_SECS", 5)) + int(env.get("APP_SHUTDOWN_TIMEOUT_SECS", 30))
        check(
            seconds(service.get("stop_grace_period", "10s")) > timeout,
            f"{where}: stop_grace_period must exceed APP_SHUTDOWN_DRAIN_SECS + APP_SHUTDOWN_TIMEOUT_SECS ({timeout}s)",
        )
        test = (service.get("healthcheck") or {}).get("test", [])
        check(test[-1:] == ["healthcheck"], f"{where}: healthcheck must run `therapist-directory healthcheck`")
        depends = service.get("depends_on") or {}
        check(
            any((spec or {}).get("condition") == "service_completed_successfully" for spec in depends.values()),
            f"{where}: must wait for the one-shot migration to complete",
        )
    migrate = services.get("migrate") or {}
    check(migrate.get("command") == ["migrate"], "compose: the migrate service must run `migrate`")
    check(
        "seed-demo" in " ".join(map(str, (services.get("demo-data") or {}).get("command", []))),
        "compose: demo-data must run seed-demo",
    )
    check_nginx(apis)


def check_nginx(apis: list[str]) -> None:
    path = ROOT / "deploy/compose/nginx.conf"
    # Not strict: crossplane takes a `map` block's entries for unknown directives.
    parsed = crossplane.parse(str(path), single=True)
    for error in parsed["errors"]:
        problems.append(f"nginx.conf: {error['error']}")
    directives: list[dict] = []

    def walk(block):
        for directive in block:
            directives.append(directive)
            if directive["directive"] != "map":
                walk(directive.get("block", []))

    for config in parsed["config"]:
        walk(config["parsed"])
    servers = {
        d["args"][0].split(":")[0]
        for upstream in directives
        if upstream["directive"] == "upstream"
        for d in upstream.get("block", [])
        if d["directive"] == "server"
    }
    check(servers == set(apis), f"nginx.conf: upstream servers {sorted(servers)} differ from {apis}")
    # A process set aside after one failure must be back within a rolling restart's pause
    # (deploy/README.md, "Rolling restarts"): nginx's default 10 s kept a restarted
    # process out while the other one stopped.
    for upstream in directives:
        if upstream["directive"] != "upstream":
            continue
        for d in upstream.get("block", []):
            if d["directive"] != "server":
                continue
            params = dict(a.split("=", 1) for a in d["args"][1:] if "=" in a)
            check(
                params.get("max_fails") == "0" or seconds(params.get("fail_timeout", "10s")) <= 1,
                f"nginx.conf: {d['args'][0]} must set fail_timeout=1s (or max_fails=0)",
            )
    next_upstream = [d["args"] for d in directives if d["directive"] == "proxy_next_upstream"]
    check(
        next_upstream == [["error", "timeout", "http_502", "http_503"]],
        f"nginx.conf: proxy_next_upstream must be `error timeout http_502 http_503`, is {next_upstream}",
    )
    headers = {d["args"][0].lower() for d in directives if d["directive"] == "proxy_set_header"}
    check({"x-forwarded-for", "forwarded"} <= headers, "nginx.conf: must set X-Forwarded-For and Forwarded")
    for line in path.read_text(encoding="utf-8").splitlines():
        code = line.split("#")[0]
        check("non_idempotent" not in code, "nginx.conf: never retry non-idempotent requests")


def check_kubernetes() -> None:
    folder = ROOT / "deploy/kubernetes"
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text(encoding="utf-8"))
    listed = kustomization.get("resources", [])
    present = sorted(p.name for p in folder.glob("*.yaml") if p.name != "kustomization.yaml")
    check(sorted(listed) == present, f"kustomization.yaml lists {sorted(listed)}, the folder has {present}")
    documents = {}
    for name in present:
        for document in yaml.safe_load_all((folder / name).read_text(encoding="utf-8")):
            # The API's own documents come first by file name and within secret.yaml;
            # minio.yaml's Deployment and Job are the photo store's.
            if document:
                documents.setdefault(document["kind"], document)
    config = documents["ConfigMap"]["data"]
    app_variables("configmap.yaml", config.keys())
    check(config.get("APP_MIGRATE_ON_START") == "false", "configmap.yaml: APP_MIGRATE_ON_START must be \"false\"")
    check(config.get("APP_ENV") == "production", "configmap.yaml: APP_ENV must be production")
    secret = documents["Secret"]["stringData"]
    app_variables("secret.yaml", secret.keys())
    check(len(secret.get("APP_JWT_SECRET", "")) < 32, "secret.yaml: the JWT placeholder must stay too short to start with")

    deployment = documents["Deployment"]["spec"]["template"]["spec"]
    container = deployment["containers"][0]
    env_names = [e["name"] for e in container.get("env", [])]
    app_variables("deployment.yaml", env_names)
    check("APP_DATABASE_OWNER_URL" not in env_names, "deployment.yaml: the API pods must not get the owner's URL")
    check(
        container.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/readyz",
        "deployment.yaml: readinessProbe must be /readyz",
    )
    check(
        container.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/healthz",
        "deployment.yaml: livenessProbe must be /healthz",
    )
    startup = container.get("startupProbe", {})
    check(
        startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3) >= 300,
        "deployment.yaml: startupProbe must allow several minutes for the index build",
    )
    drain = int(config.get("APP_SHUTDOWN_DRAIN_SECS", 5))
    check(drain >= 5, "configmap.yaml: APP_SHUTDOWN_DRAIN_SECS must give endpoints and ingresses 5 s or more")
    check(deployment.get("terminationGracePeriodSeconds", 30) > drain + int(config.get("APP_SHUTDOWN_TIMEOUT_SECS", 30)),
          "deployment.yaml: terminationGracePeriodSeconds must exceed APP_SHUTDOWN_DRAIN_SECS + APP_SHUTDOWN_TIMEOUT_SECS")
    security = container.get("securityContext", {})
    check(security.get("readOnlyRootFilesystem") is True, "deployment.yaml: readOnlyRootFilesystem")
    check(deployment.get("securityContext", {}).get("runAsNonRoot") is True, "deployment.yaml: runAsNonRoot")
    mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
    check("/app/var" in mounts, "deployment.yaml: /app/var must be a writable volume")
    check(
        {"memory", "cpu"} <= set(container.get("resources", {}).get("requests", {})),
        "deployment.yaml: cpu and memory requests (the HPA scales on CPU utilisation)",
    )
    job = documents["Job"]["spec"]["template"]["spec"]["containers"][0]
    check(job.get("args") == ["migrate"], "migration-job.yaml: must run `migrate`")
    job_env = {e["name"]: e for e in job.get("env", [])}
    app_variables("migration-job.yaml", job_env)
    check(
        job_env.get("APP_DATABASE_OWNER_URL", {}).get("valueFrom", {}).get("secretKeyRef", {}).get("key")
        == "APP_DATABASE_OWNER_URL",
        "migration-job.yaml: must connect with the owner's URL",
    )
    check(documents["HorizontalPodAutoscaler"]["apiVersion"] == "autoscaling/v2", "hpa.yaml: autoscaling/v2")
    check(documents["PodDisruptionBudget"]["spec"].get("minAvailable") == 1, "pdb.yaml: minAvailable 1")


for name, run in (("docker-compose.yml + nginx.conf", check_compose), ("deploy/kubernetes", check_kubernetes)):
    before = len(problems)
    run()
    print(f"{'ok' if len(problems) == before else 'FAILED'} -- {name}: consistency")
for problem in problems:
    print(f"  {problem}")
sys.exit(1 if problems else 0)
