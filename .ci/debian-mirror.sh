# Sourced by the CI scripts that fetch from Debian's archive (libcamera-matrix.sh,
# virtual-camera.sh). find_mirror prints the URI of the first Debian main archive (not the
# security archive) named in the machine's apt sources: sources.list or deb822 .sources files.
find_mirror() {
  local file
  if [ -r /etc/apt/sources.list ]; then
    awk '$1 == "deb" {
           i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
           if ($(i) !~ /security/ && $(i + 1) !~ /security/) { print $(i); exit }
         }' /etc/apt/sources.list
  fi
  for file in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
    [ -r "$file" ] || continue
    case "$file" in
      *.list)
        awk '$1 == "deb" {
               i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
               if ($(i) !~ /security/ && $(i + 1) !~ /security/) { print $(i); exit }
             }' "$file"
        ;;
      *.sources)
        # One stanza per blank-line-separated block; take URIs whose Suites are not security.
        awk 'BEGIN { RS = ""; FS = "\n" }
             {
               uris = ""; suites = ""; types = ""
               for (n = 1; n <= NF; n++) {
                 if ($n ~ /^URIs:/) { uris = $n; sub(/^URIs:[ \t]*/, "", uris) }
                 if ($n ~ /^Suites:/) { suites = $n }
                 if ($n ~ /^Types:/) { types = $n }
               }
               if (types ~ /deb([ \t]|$)/ && suites !~ /security/ && uris ~ /debian/) {
                 split(uris, u, /[ \t]+/); print u[1]; exit
               }
             }' "$file"
        ;;
    esac
  done
}

# debian_mirror: CAMSTREAM_DEBIAN_MIRROR, else the first http(s)/file archive from find_mirror,
# without a trailing slash; empty when there is none.
debian_mirror() {
  local mirror=${CAMSTREAM_DEBIAN_MIRROR:-$(find_mirror | grep -m1 -E '^(https?|file)://' || true)}
  printf '%s\n' "${mirror%/}"
}
