"""Users files, certificates and HTTPS/Basic clients for the access-control and TLS tests.

Hashes come from the real tools (htpasswd -B, mkpasswd); certificates from the openssl CLI, made
in a temporary directory for each test and never checked in. Everything talks to loopback only.
"""

import base64
import http.client
import json
import os
import shutil
import ssl
import subprocess

import pytest

from helpers import client_env


def require_tools(*names):
    """The tests need these programs: fail loudly (never skip) when one is missing."""
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        pytest.fail(f"missing test tools: {', '.join(missing)} (packaging/install-deps.sh)")


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, env=client_env(), timeout=60,
                            stdin=subprocess.DEVNULL, **kwargs)
    assert result.returncode == 0, f"{command}: {result.stderr.decode()[-2000:]}"
    return result.stdout.decode()


def hash_line(user, password, method="bcrypt"):
    """One htpasswd line, made as the docs tell users to make it."""
    if method == "bcrypt":
        require_tools("htpasswd")
        return run(["htpasswd", "-nbB", user, password]).strip()
    require_tools("mkpasswd")
    return f"{user}:" + run(["mkpasswd", "-m", method, password]).strip()


def write_users(directory, users):
    """users: {name: password} or {name: (password, method)}; returns the file's path."""
    lines = []
    for name, value in users.items():
        password, method = value if isinstance(value, tuple) else (value, "bcrypt")
        lines.append(hash_line(name, password, method))
    path = os.path.join(directory, "users")
    with open(path, "w") as users_file:
        users_file.write("# test users\n" + "\n".join(lines) + "\n")
    return path


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Certificates:
    """A test CA and a server certificate it signed for 127.0.0.1, ::1 and localhost."""

    def __init__(self, directory, name="server"):
        require_tools("openssl")
        self.dir = directory
        self.ca = os.path.join(directory, f"{name}-ca.pem")
        self.cert = os.path.join(directory, f"{name}.pem")
        self.chain = os.path.join(directory, f"{name}-fullchain.pem")
        self.key = os.path.join(directory, f"{name}.key")
        ca_key = os.path.join(directory, f"{name}-ca.key")
        csr = os.path.join(directory, f"{name}.csr")
        ext = os.path.join(directory, f"{name}.ext")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        run(["openssl", "req", "-x509", *ec, "-days", "2", "-subj", f"/CN=camstream test CA {name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-keyout", ca_key, "-out", self.ca])
        run(["openssl", "req", "-new", *ec, "-subj", "/CN=localhost", "-keyout", self.key,
             "-out", csr])
        with open(ext, "w") as extensions:
            extensions.write("subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n"
                             "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
        run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", ca_key,
             "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", self.cert])
        with open(self.chain, "w") as chain:
            chain.write(open(self.cert).read() + open(self.ca).read())

    def client_context(self):
        context = ssl.create_default_context(cafile=self.ca)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context


def insecure_context():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def json(self):
        return json.loads(self.body)


def request(port, path, headers=None, method="GET", tls=None, host="127.0.0.1", timeout=10.0):
    """One request; tls is None (plain HTTP) or an ssl.SSLContext."""
    if tls is None:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    else:
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=tls)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return Answer(response.status, response.getheaders(), response.read())
    finally:
        conn.close()


def get_token(port, user, password, query="", tls=None):
    answer = request(port, "/api/token" + query, {"Authorization": basic(user, password)},
                     tls=tls)
    assert answer.status == 200, f"/api/token{query}: {answer.status} {answer.body[:200]!r}"
    return answer.json()
