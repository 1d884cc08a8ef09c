#!/usr/bin/env bash
# System packages the leadership report needs: headless Chromium prints report.pdf, Noto CJK
# fonts give the page Chinese glyphs (without them Chinese prints as boxes), WenQuanYi Micro
# Hei is the TrueType font the PDF is printed in (Chromium embeds OpenType-CFF fonts such as
# Noto CJK as Type 3, not as CID fonts readers search and copy from), poppler-utils lets the
# tests read the PDF back; Java 17 runs Apache Spark's local session for KZDW_ENGINE=spark
# (pyspark starts a JVM). Does nothing when they are already there; otherwise installs them
# with apt-get, as root or through sudo; otherwise says what to install and stops.
set -euo pipefail

missing=()
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
    missing+=(chromium)
fi
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh family 2>/dev/null)" ]; then
    missing+=(fonts-noto-cjk)
fi
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list "WenQuanYi Micro Hei" family 2>/dev/null)" ]; then
    missing+=(fonts-wqy-microhei)
fi
if ! command -v pdftotext >/dev/null 2>&1; then
    missing+=(poppler-utils)
fi

if ! command -v java >/dev/null 2>&1; then
    missing+=(openjdk-17-jre-headless)
fi

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "installing system packages for the report and Spark: ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "no apt-get here: install ${missing[*]} (Chromium, Noto Sans CJK SC and WenQuanYi Micro Hei fonts, poppler, a Java 17 runtime)" \
        "with this system's package manager, then run make setup again" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "not root and no password-less sudo: run" \
        "'sudo apt-get install -y ${missing[*]}', then make setup again" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
${as_root[@]+"${as_root[@]}"} apt-get update -qq
${as_root[@]+"${as_root[@]}"} apt-get install -y -qq --no-install-recommends "${missing[@]}"
if command -v fc-cache >/dev/null 2>&1; then
    ${as_root[@]+"${as_root[@]}"} fc-cache -f >/dev/null
fi
