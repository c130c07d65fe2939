#!/usr/bin/env bash
# Creates a development CA and a serving certificate for karmada-takeover with openssl.
#
#   certs/gen-dev-certs.sh [OUT_DIR]        (default: certs/dev/, git-ignored)
#
# Environment:
#   SERVICE      Service name            (default: karmada-takeover)
#   NAMESPACE    Service namespace       (default: karmada-system)
#   CLUSTER_DOMAIN                       (default: cluster.local)
#   DAYS         leaf validity in days   (default: 365)
#   CA_DAYS      CA validity in days     (default: 3650)
#
# Writes ca.crt, ca.key, tls.crt, tls.key (the names the chart's TLS Secret uses). SANs:
# <svc>, <svc>.<ns>, <svc>.<ns>.svc, <svc>.<ns>.svc.<domain>, localhost, 127.0.0.1, ::1.
# The keys are private: never commit them (certs/dev/ and *.key are git-ignored).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-${ROOT}/certs/dev}"
SERVICE="${SERVICE:-karmada-takeover}"
NAMESPACE="${NAMESPACE:-karmada-system}"
CLUSTER_DOMAIN="${CLUSTER_DOMAIN:-cluster.local}"
DAYS="${DAYS:-365}"
CA_DAYS="${CA_DAYS:-3650}"

command -v openssl >/dev/null || { echo "gen-dev-certs: openssl is required" >&2; exit 1; }
mkdir -p "${OUT}"
umask 077
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

# CA: EC P-256, basicConstraints CA:TRUE, keyCertSign.
openssl ecparam -name prime256v1 -genkey -noout -out "${work}/ca.key"
openssl req -x509 -new -sha256 -key "${work}/ca.key" -days "${CA_DAYS}" \
  -subj "/CN=karmada-takeover-dev-ca" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -addext "subjectKeyIdentifier=hash" \
  -out "${work}/ca.crt"

# Serving certificate.
cat > "${work}/leaf.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
subjectAltName=DNS:${SERVICE},DNS:${SERVICE}.${NAMESPACE},DNS:${SERVICE}.${NAMESPACE}.svc,DNS:${SERVICE}.${NAMESPACE}.svc.${CLUSTER_DOMAIN},DNS:localhost,IP:127.0.0.1,IP:::1
EXT
openssl ecparam -name prime256v1 -genkey -noout -out "${work}/tls.ec.key"
# PKCS#8 ("BEGIN PRIVATE KEY"), which every TLS stack reads.
openssl pkcs8 -topk8 -nocrypt -in "${work}/tls.ec.key" -out "${work}/tls.key"
openssl req -new -sha256 -key "${work}/tls.key" \
  -subj "/CN=${SERVICE}.${NAMESPACE}.svc" -out "${work}/tls.csr"
openssl x509 -req -sha256 -in "${work}/tls.csr" -CA "${work}/ca.crt" -CAkey "${work}/ca.key" \
  -CAcreateserial -days "${DAYS}" -extfile "${work}/leaf.ext" -out "${work}/tls.crt" 2>/dev/null

openssl verify -CAfile "${work}/ca.crt" "${work}/tls.crt" >/dev/null
install -m 0644 "${work}/ca.crt" "${OUT}/ca.crt"
install -m 0644 "${work}/tls.crt" "${OUT}/tls.crt"
install -m 0600 "${work}/ca.key" "${OUT}/ca.key"
install -m 0600 "${work}/tls.key" "${OUT}/tls.key"
echo "gen-dev-certs: wrote ca.crt, ca.key, tls.crt, tls.key to ${OUT}"
openssl x509 -in "${OUT}/tls.crt" -noout -subject -enddate -ext subjectAltName
