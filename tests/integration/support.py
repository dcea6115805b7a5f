"""Shared by the integration tests: results with a JUnit report, bounded polling, stopping a
process by its PID, and checking an API answer against the OpenAPI document (Schema)."""
import signal
import subprocess
import time
import xml.sax.saxutils as su


class Results:
    """PASS/FAIL lines as the checks run, and the JUnit XML the summary reads."""

    def __init__(self):
        self.items = []

    def check(self, name, ok, detail=""):
        self.items.append((name, bool(ok), str(detail)))
        print(("PASS " if ok else "FAIL ") + name + ("" if ok else f": {detail}"), flush=True)
        return bool(ok)

    def failed(self):
        return any(not ok for _, ok, _ in self.items)

    def passed(self):
        return bool(self.items) and not self.failed()

    def write_junit(self, path, suite):
        fails = sum(1 for _, ok, _ in self.items if not ok)
        with open(path, "w", encoding="utf-8") as f:
            f.write(f'<?xml version="1.0"?>\n<testsuite name="{suite}" tests="{len(self.items)}" '
                    f'failures="{fails}">\n')
            for name, ok, detail in self.items:
                f.write(f'  <testcase classname="{suite}" name={su.quoteattr(name)}>')
                if not ok:
                    f.write(f"<failure message={su.quoteattr(detail[:800])}/>")
                f.write("</testcase>\n")
            f.write("</testsuite>\n")


def wait_until(pred, limit=10.0, step=0.1):
    """Polls pred() until it is true or `limit` seconds passed; returns its last value."""
    deadline = time.time() + limit
    while True:
        v = pred()
        if v or time.time() >= deadline:
            return v
        time.sleep(step)


def stop_pid(p, limit=15):
    """SIGTERM by PID, a bounded wait, KILL past the bound. Returns (exit status, seconds);
    the status is None when the process had to be killed."""
    if p is None:
        return None, 0.0
    if p.poll() is not None:
        return p.returncode, 0.0
    t0 = time.time()
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None, time.time() - t0
    return p.returncode, time.time() - t0


# The OpenAPI checker (server/core/api/openapi.json): required properties and types of the
# documented answers (api_test.py, trunk_reg_test.py).
class Schema:
    def __init__(self, doc):
        self.doc = doc

    def deref(self, node):
        """A schema or response with its "$ref"s followed ("#/components/...")."""
        while isinstance(node, dict) and "$ref" in node:
            target = self.doc
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def response_schema(self, template, method, status):
        """The JSON schema documented for (path template, method, status); None if none."""
        op = self.doc["paths"].get(template, {}).get(method.lower())
        if op is None:
            return None
        resp = op["responses"].get(str(status))
        if resp is None:
            return None
        resp = self.deref(resp)
        return self.deref(resp.get("content", {}).get("application/json", {}).get("schema"))

    def errors(self, value, schema, where="$"):
        """Every way `value` breaks `schema` (type, nullable, required, enum, items)."""
        schema = self.deref(schema)
        if schema is None:
            return []
        if value is None:
            return [] if schema.get("nullable") else [f"{where}: null"]
        types = {"object": dict, "array": list, "string": str, "boolean": bool}
        t = schema.get("type")
        if t == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                return [f"{where}: {value!r} is not an integer"]
        elif t in types and not isinstance(value, types[t]):
            return [f"{where}: {value!r} is not {t}"]
        if "enum" in schema and value not in schema["enum"]:
            return [f"{where}: {value!r} not in {schema['enum']}"]
        out = []
        if t == "object":
            for name in schema.get("required", []):
                if name not in value:
                    out.append(f"{where}: missing {name}")
            for name, sub in schema.get("properties", {}).items():
                if name in value:
                    out += self.errors(value[name], sub, f"{where}.{name}")
        if t == "array":
            for i, item in enumerate(value):
                out += self.errors(item, schema.get("items"), f"{where}[{i}]")
        return out
