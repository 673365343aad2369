# Shell helpers of the benchmarks that start TAD as separate processes (sourced by upload.sh and
# read_split.sh).

# 32 random bytes as hex: a JWT secret or credential key for one run.
random_hex() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }

# Waits (up to 30 s) for a line of FILE starting with PREFIX and prints the rest of it; fails
# with the file's content when none comes.
wait_line() { # FILE PREFIX
  for _ in $(seq 1 300); do
    if grep -q "^$2" "$1" 2>/dev/null; then grep "^$2" "$1" | head -n 1 | sed "s/^$2//"; return; fi
    sleep 0.1
  done
  echo "no '$2' in $1" >&2; cat "$1" >&2; exit 1
}
