# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deterministic, lazy finding generators.

A scope (one scan, one repository and scan type, ...) owns ``count`` findings. Only the catalog
index of each finding is computed up front (one ``random.choices`` call, milliseconds even for
tens of thousands); the full finding is built on demand for the page being served. The same seed
and scope always give the same findings.
"""

import random

from .common import stable_int

SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")

# ---------------------------------------------------------------- CloudGeni: IaC checks
# (checkId, title, description, severity, resource type, resource names, files, remediation, code)
IAC_CHECKS = (
    ("CKV_AWS_19", "S3 Bucket Encryption", "S3 bucket does not have server-side encryption enabled", "high",
     "aws_s3_bucket", ("data_bucket", "logs_bucket", "artifacts"), ("storage/main.tf", "modules/s3/main.tf"),
     "Enable server-side encryption", "server_side_encryption_configuration { ... }"),
    ("CKV_AWS_18", "S3 Bucket Access Logging", "S3 bucket has no access logging configured", "low",
     "aws_s3_bucket", ("data_bucket", "static_site"), ("storage/main.tf",),
     "Send access logs to a dedicated logging bucket", "logging { target_bucket = aws_s3_bucket.logs.id }"),
    ("CKV_AWS_20", "S3 Bucket Public Read ACL", "S3 bucket ACL grants READ to everyone", "critical",
     "aws_s3_bucket", ("public_assets",), ("storage/public.tf",),
     "Use a private ACL and serve content through CloudFront", "acl = \"private\""),
    ("CKV_AWS_21", "S3 Bucket Versioning", "S3 bucket versioning is disabled", "medium",
     "aws_s3_bucket", ("data_bucket", "backups"), ("storage/main.tf", "backup/s3.tf"),
     "Enable versioning on the bucket", "versioning { enabled = true }"),
    ("CKV_AWS_24", "SSH Open To The Internet", "Security group allows ingress from 0.0.0.0/0 to port 22", "high",
     "aws_security_group", ("bastion", "web"), ("network/security_groups.tf",),
     "Restrict SSH ingress to known CIDR ranges", "cidr_blocks = [var.admin_cidr]"),
    ("CKV_AWS_25", "RDP Open To The Internet", "Security group allows ingress from 0.0.0.0/0 to port 3389", "high",
     "aws_security_group", ("windows_hosts",), ("network/security_groups.tf",),
     "Restrict RDP ingress to a VPN range", "cidr_blocks = [var.vpn_cidr]"),
    ("CKV_AWS_23", "Security Group Rule Description", "Security group rule has no description", "low",
     "aws_security_group_rule", ("allow_https", "allow_health"), ("network/rules.tf",),
     "Describe the purpose of every rule", "description = \"HTTPS from load balancer\""),
    ("CKV_AWS_16", "RDS Encryption At Rest", "RDS instance storage is not encrypted", "high",
     "aws_db_instance", ("primary", "reporting"), ("database/rds.tf",),
     "Enable storage encryption with a KMS key", "storage_encrypted = true"),
    ("CKV_AWS_17", "RDS Publicly Accessible", "RDS instance is publicly accessible", "critical",
     "aws_db_instance", ("reporting",), ("database/rds.tf",),
     "Disable public accessibility", "publicly_accessible = false"),
    ("CKV_AWS_79", "EC2 Instance Metadata Service v1", "Instance metadata service v1 is enabled", "medium",
     "aws_instance", ("worker", "bastion"), ("compute/ec2.tf",),
     "Require IMDSv2 session tokens", "metadata_options { http_tokens = \"required\" }"),
    ("CKV_AWS_8", "Launch Configuration EBS Encryption", "Launch configuration block device is unencrypted", "medium",
     "aws_launch_configuration", ("asg_workers",), ("compute/asg.tf",),
     "Encrypt root and data volumes", "root_block_device { encrypted = true }"),
    ("CKV_AWS_40", "IAM Policy Attached To User", "IAM policy is attached directly to a user", "low",
     "aws_iam_user_policy_attachment", ("deployer",), ("iam/users.tf",),
     "Attach policies to groups or roles instead of users", "resource \"aws_iam_group_policy_attachment\" ..."),
    ("CKV_AWS_158", "CloudWatch Log Group KMS", "CloudWatch log group is not encrypted with a customer key", "info",
     "aws_cloudwatch_log_group", ("app_logs",), ("observability/logs.tf",),
     "Encrypt the log group with a KMS key", "kms_key_id = aws_kms_key.logs.arn"),
    ("CKV_AZURE_35", "Storage Account Network Default Deny", "Storage account allows access from all networks", "medium",
     "azurerm_storage_account", ("diag", "tfstate"), ("azure/storage.bicep", "azure/storage.tf"),
     "Set the default network action to Deny", "network_rules { default_action = \"Deny\" }"),
    ("CKV_GCP_29", "GCS Uniform Bucket Access", "Cloud Storage bucket does not use uniform bucket-level access", "medium",
     "google_storage_bucket", ("exports",), ("gcp/storage.tf",),
     "Enable uniform bucket-level access", "uniform_bucket_level_access = true"),
)
IAC_WEIGHTS = (8, 5, 1, 4, 3, 2, 6, 3, 1, 4, 3, 3, 2, 3, 3)

# ---------------------------------------------------------------- Kolega: per scan type
SECRET_RULES = (
    ("aws-access-token", "AWS access key id committed to the repository", "critical", (".env", "deploy/config.yaml", "scripts/upload.sh")),
    ("github-pat", "GitHub personal access token committed to the repository", "high", (".github/workflows/release.yml", "tools/sync.py")),
    ("generic-api-key", "Generic API key assigned in source", "medium", ("src/config/settings.py", "app/config.js")),
    ("private-key", "PEM private key committed to the repository", "critical", ("certs/dev.key", "docker/ssl/server.key")),
    ("slack-webhook-url", "Slack incoming webhook URL in source", "low", ("ops/notify.py",)),
    ("stripe-access-token", "Stripe secret key in source", "high", ("billing/client.ts",)),
)
SEMGREP_RULES = (
    ("python.lang.security.audit.exec-detected.exec-detected", "Use of exec() with non-literal input", "high", "CWE-95",
     "A03:2021 - Injection", ("app/plugins/loader.py",)),
    ("python.django.security.injection.sql.sql-injection-using-raw.sql-injection-using-raw", "SQL built from user input passed to raw()",
     "critical", "CWE-89", "A03:2021 - Injection", ("app/reports/views.py", "app/search/query.py")),
    ("javascript.express.security.audit.xss.direct-response-write.direct-response-write", "User input written directly to the response",
     "medium", "CWE-79", "A03:2021 - Injection", ("web/routes/profile.js",)),
    ("python.lang.security.insecure-hash-algorithms.insecure-hash-algorithm-md5", "MD5 used for a security-sensitive hash", "medium",
     "CWE-328", "A02:2021 - Cryptographic Failures", ("app/auth/tokens.py",)),
    ("python.requests.security.disabled-cert-validation.disabled-cert-validation", "TLS certificate validation disabled", "high",
     "CWE-295", "A07:2021 - Identification and Authentication Failures", ("app/integrations/http.py",)),
    ("go.lang.security.audit.net.use-tls-with-insecure-cipher.use-tls-with-insecure-cipher", "TLS configured with an insecure cipher suite",
     "low", "CWE-327", "A02:2021 - Cryptographic Failures", ("cmd/server/tls.go",)),
)
# (package, version, CVE, CVSS, fixed version, manifest)
SBOM_PACKAGES = (
    ("log4j-core", "2.14.1", "CVE-2021-44228", 10.0, "2.15.0", "pom.xml"),
    ("lodash", "4.17.20", "CVE-2021-23337", 7.2, "4.17.21", "package-lock.json"),
    ("minimist", "1.2.5", "CVE-2021-44906", 9.8, "1.2.6", "package-lock.json"),
    ("pyyaml", "5.3", "CVE-2020-14343", 9.8, "5.4", "requirements.txt"),
    ("requests", "2.25.0", "CVE-2023-32681", 6.1, "2.31.0", "requirements.txt"),
    ("urllib3", "1.26.4", "CVE-2023-43804", 8.1, "1.26.17", "requirements.txt"),
    ("axios", "0.21.0", "CVE-2021-3749", 7.5, "0.21.2", "package-lock.json"),
)
DEEP_AI_RULES = (
    ("kolega.ai.broken-object-level-authorization", "Object fetched by id without an ownership check", "high", "CWE-639",
     "A01:2021 - Broken Access Control", ("app/api/invoices.py",)),
    ("kolega.ai.server-side-request-forgery", "Outbound request to a user-supplied URL", "high", "CWE-918",
     "A10:2021 - Server-Side Request Forgery", ("app/webhooks/preview.py",)),
    ("kolega.ai.missing-rate-limit", "Login endpoint has no attempt limiting", "medium", "CWE-307",
     "A07:2021 - Identification and Authentication Failures", ("app/auth/login.py",)),
    ("kolega.ai.mass-assignment", "Request body bound to model without an allow list", "medium", "CWE-915",
     "A08:2021 - Software and Data Integrity Failures", ("app/api/users.py",)),
)

# ---------------------------------------------------------------- HarborGuard: image CVEs
# (package, version, CVE, severity, CVSS, fixed version or None)
IMAGE_CVES = (
    ("openssl", "3.0.2-0ubuntu1.10", "CVE-2023-0286", "HIGH", 7.4, "3.0.2-0ubuntu1.12"),
    ("libc6", "2.35-0ubuntu3.1", "CVE-2023-4911", "HIGH", 7.8, "2.35-0ubuntu3.4"),
    ("zlib1g", "1:1.2.11.dfsg-2", "CVE-2018-25032", "HIGH", 7.5, "1:1.2.11.dfsg-2+deb11u1"),
    ("curl", "7.81.0-1ubuntu1.10", "CVE-2023-38545", "CRITICAL", 9.8, "7.81.0-1ubuntu1.14"),
    ("busybox", "1.35.0-r17", "CVE-2022-48174", "CRITICAL", 9.8, "1.35.0-r18"),
    ("libexpat1", "2.4.7-1", "CVE-2022-40674", "HIGH", 8.1, "2.4.7-1ubuntu0.1"),
    ("libxml2", "2.9.13+dfsg-1", "CVE-2022-40303", "HIGH", 7.5, "2.9.13+dfsg-1ubuntu0.1"),
    ("ncurses-base", "6.3-2", "CVE-2023-29491", "HIGH", 7.8, "6.3-2ubuntu0.1"),
    ("libsqlite3-0", "3.37.2-2", "CVE-2022-35737", "HIGH", 7.5, "3.37.2-2ubuntu0.1"),
    ("tar", "1.34+dfsg-1", "CVE-2022-48303", "MEDIUM", 5.5, "1.34+dfsg-1ubuntu0.1.22.04.1"),
    ("e2fsprogs", "1.46.5-2ubuntu1", "CVE-2022-1304", "HIGH", 7.8, "1.46.5-2ubuntu1.1"),
    ("libtasn1-6", "4.18.0-4", "CVE-2021-46848", "CRITICAL", 9.1, "4.18.0-4ubuntu0.1"),
    ("libkrb5-3", "1.19.2-2", "CVE-2022-42898", "HIGH", 8.8, "1.19.2-2ubuntu0.1"),
    ("python3.10", "3.10.6-1", "CVE-2023-24329", "HIGH", 7.5, None),
    ("login", "1:4.8.1-2ubuntu2", "CVE-2023-29383", "LOW", 3.3, None),
    ("coreutils", "8.32-4.1ubuntu1", "CVE-2016-2781", "LOW", 2.0, None),
    ("gpgv", "2.2.27-3ubuntu2.1", "CVE-2022-3219", "LOW", 3.3, None),
    ("libpcre3", "2:8.39-13ubuntu0.22.04.1", "CVE-2017-11164", "NEGLIGIBLE", 0.0, None),
)
IMAGE_CVE_WEIGHTS = (4, 3, 3, 1, 1, 3, 3, 2, 2, 5, 2, 1, 2, 3, 6, 6, 5, 4)
IMAGE_SCANNERS = ("trivy", "grype", "osv")

# ---------------------------------------------------------------- Penaxtra: cloud controls
# (title, severity, risk refs, summary)
CLOUD_CONTROLS = (
    ("IAM root account has active access keys", "critical", ("CIS-AWS-1.4", "NIST-800-53:AC-6"),
     "The root user holds long-lived access keys; remove them and use roles."),
    ("S3 bucket allows public read", "high", ("CIS-AWS-2.1.5", "NIST-800-53:AC-3"),
     "A bucket policy grants s3:GetObject to everyone."),
    ("Security group allows 0.0.0.0/0 on port 22", "high", ("CIS-AWS-5.2",), "SSH is reachable from the internet."),
    ("CloudTrail is not enabled in all regions", "medium", ("CIS-AWS-3.1", "NIST-800-53:AU-2"),
     "API activity in some regions is not logged."),
    ("IAM user without MFA", "medium", ("CIS-AWS-1.10",), "A console user can sign in without a second factor."),
    ("Storage account allows shared key access", "medium", ("CIS-AZURE-3.3",), "Shared keys bypass Entra ID authorization."),
    ("GKE cluster has legacy ABAC enabled", "high", ("CIS-GKE-5.8.3",), "Legacy attribute based access control is on."),
    ("AI service endpoint is publicly reachable", "high", ("PENAXTRA-AI-2",), "A model endpoint accepts unauthenticated traffic."),
    ("KMS key rotation disabled", "low", ("CIS-AWS-3.6",), "A customer managed key has never been rotated."),
    ("VPC flow logs disabled", "low", ("CIS-AWS-3.9",), "Network traffic metadata is not retained."),
    ("Password policy allows reuse", "info", ("CIS-AWS-1.9",), "The account password policy does not prevent reuse."),
)
CLOUD_CONTROL_WEIGHTS = (1, 2, 2, 3, 3, 3, 1, 1, 4, 4, 2)

# ---------------------------------------------------------------- AgileSec: crypto observations
# One entry per kind of cryptographic finding a sensor reports: a label, the crypto subtype of the
# document (``crypto.<kind>``), the platform's analysis (priority and policy rule, ASSUMED vocabulary,
# docs/assumptions.md), whether the emulator calls it weak in the execution message, and the
# subtype's fields. Certificate validity is given in days relative to the execution's end.
CRYPTO_CATALOG = (
    {"label": "RSA-2048 key", "kind": "key", "priority": "info", "rule": "compliant-key", "weak": False,
     "title": "RSA 2048-bit private key", "crypto": {"algorithm": "RSA", "size": 2048, "type": "private"}},
    {"label": "RSA-1024 key", "kind": "key", "priority": "high", "rule": "weak-rsa-key-size", "weak": True,
     "title": "RSA private key shorter than 2048 bits", "crypto": {"algorithm": "RSA", "size": 1024, "type": "private"}},
    {"label": "ECDSA-P256 key", "kind": "key", "priority": "info", "rule": "compliant-key", "weak": False,
     "title": "ECDSA P-256 private key", "crypto": {"algorithm": "EC", "curve": "P-256", "size": 256, "type": "private"}},
    {"label": "SHA-1 signature", "kind": "x509", "priority": "high", "rule": "sha1-signature", "weak": True,
     "title": "Certificate signed with SHA-1",
     "crypto": {"signature_algorithm": "sha1WithRSAEncryption", "public_key": {"algorithm": "RSA", "size": 2048}, "valid_days": (400, 800)}},
    {"label": "MD5", "kind": "algorithm", "priority": "high", "rule": "broken-hash-md5", "weak": True,
     "title": "MD5 used as a hash", "crypto": {"name": "MD5", "primitive": "hash"}},
    {"label": "AES-256-GCM", "kind": "algorithm", "priority": "info", "rule": "compliant-algorithm", "weak": False,
     "title": "AES-256 in GCM mode", "crypto": {"name": "AES-256-GCM", "primitive": "cipher", "size": 256}},
    {"label": "AES-128-CBC", "kind": "algorithm", "priority": "low", "rule": "cbc-mode-cipher", "weak": False,
     "title": "AES in CBC mode without authentication", "crypto": {"name": "AES-128-CBC", "primitive": "cipher", "size": 128}},
    {"label": "3DES", "kind": "algorithm", "priority": "medium", "rule": "deprecated-cipher-3des", "weak": True,
     "title": "Triple DES cipher", "crypto": {"name": "3DES", "primitive": "cipher", "size": 168}},
    {"label": "TLSv1.0", "kind": "protocol", "priority": "high", "rule": "legacy-tls-version", "weak": True,
     "title": "TLS 1.0 enabled", "crypto": {"name": "TLS", "version": "1.0", "cipher_suite": "TLS_RSA_WITH_AES_128_CBC_SHA"}},
    {"label": "Ed25519 key", "kind": "key", "priority": "info", "rule": "compliant-key", "weak": False,
     "title": "Ed25519 private key", "crypto": {"algorithm": "Ed25519", "size": 256, "type": "private"}},
    {"label": "certificate expiring", "kind": "x509", "priority": "medium", "rule": "certificate-expiring", "weak": True,
     "title": "Certificate expires within 30 days",
     "crypto": {"signature_algorithm": "sha256WithRSAEncryption", "public_key": {"algorithm": "RSA", "size": 2048}, "valid_days": (1, 25)}},
    {"label": "certificate expired", "kind": "x509", "priority": "critical", "rule": "certificate-expired", "weak": True,
     "title": "Certificate has expired",
     "crypto": {"signature_algorithm": "sha256WithRSAEncryption", "public_key": {"algorithm": "RSA", "size": 2048}, "valid_days": (-90, -1)}},
    {"label": "RSA-1024 certificate", "kind": "x509", "priority": "high", "rule": "weak-rsa-key-size", "weak": True,
     "title": "Certificate with an RSA key shorter than 2048 bits",
     "crypto": {"signature_algorithm": "sha256WithRSAEncryption", "public_key": {"algorithm": "RSA", "size": 1024}, "valid_days": (200, 700)}},
    {"label": "JKS keystore", "kind": "keystore", "priority": "medium", "rule": "legacy-keystore-format", "weak": True,
     "title": "Java KeyStore in the legacy JKS format", "crypto": {"type": "JKS", "entries": 3}},
    {"label": "OpenSSL 1.0.2", "kind": "library", "priority": "medium", "rule": "outdated-crypto-library", "weak": True,
     "title": "OpenSSL 1.0.2 is out of support", "crypto": {"name": "openssl", "version": "1.0.2k"}},
)
CRYPTO_WEIGHTS = (8, 3, 5, 3, 2, 6, 4, 1, 2, 2, 3, 1, 1, 1, 1)


class LazyFindings:
    """The catalog index of each of ``count`` findings, drawn once for a scope and seed."""

    def __init__(self, seed, scope, count, weights):
        self.count = int(count)
        self.scope_seed = stable_int(seed, scope)
        self._weights = weights
        self._kinds = None

    @property
    def kinds(self):
        if self._kinds is None:
            chooser = random.Random(self.scope_seed)
            self._kinds = chooser.choices(range(len(self._weights)), weights=self._weights, k=self.count)
        return self._kinds

    def variant(self, index, modulo):
        """A per-finding number in [0, modulo) for lines, file choices and so on."""
        return (self.scope_seed + index * 2654435761) % 4294967296 % modulo


def crypto_summary(seed, scope, count):
    """Counts of cryptographic observations for an AgileSec execution, weakest first."""
    lazy = LazyFindings(seed, scope, count, CRYPTO_WEIGHTS)
    counts = {}
    for kind in lazy.kinds:
        label = CRYPTO_CATALOG[kind]["label"]
        counts[label] = counts.get(label, 0) + 1
    weak_labels = set(entry["label"] for entry in CRYPTO_CATALOG if entry["weak"])
    weak = sum(number for label, number in counts.items() if label in weak_labels)
    parts = ["%s x%d%s" % (label, number, " (weak)" if label in weak_labels else "")
             for label, number in sorted(counts.items(), key=lambda item: (item[0] not in weak_labels, -item[1], item[0]))]
    return {"total": count, "weak": weak, "breakdown": parts}
