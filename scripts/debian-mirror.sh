# shellcheck shell=bash
# Sourced by the scripts that debootstrap: prints the Debian mirror the host's own apt uses (deb822 sources first,
# then one-line ones), or LAB_MIRROR, or deb.debian.org.
debian_mirror() {
  local mirror=${LAB_MIRROR:-$(
    { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
      grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}'
    } | grep -E '/debian/?$' | head -n1 || true
  )}
  echo "${mirror:-http://deb.debian.org/debian}"
}
