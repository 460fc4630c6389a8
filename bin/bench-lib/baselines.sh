# Baselines shared by bin/bench-shard and bin/bench-quantize (issue 12), measured in the same run as
# Nibble. Source this file; each function prints "seconds peak_RSS_KiB" for one run:
#   base_cat FILES...      cat of the files into /dev/null (page cache)
#   base_duckdb TABLE      DuckDB (JDBC, in-process) reading every row and data page of TABLE, all cores
#   base_spark TABLE M     the Spark floor: a plain Spark job reading TABLE and summing its payload lengths, local[M]
#   base_llama IN OUT      llama.cpp's own quantizer (llama_model_quantize, llama-cpp-python) IN (F32 GGUF) -> Q4_0, all cores
# DuckDB and Spark print their own query time (JVM and session start excluded, like Nibble's job_s);
# cat and llama.cpp are timed from outside (wall clock; Python start included, about 0.3 s).
# Needs ROOT (the checkout) and DIR (scratch folder). Every timed run, Nibble's too, starts with
# `settle`: the previous run's written files are flushed to disk first, so that no run pays for the
# writeback of another's (a 2.8 GB shard leaves about 2 GB of dirty pages).
BENCH_FLAGS=$(sed -n 's:.*<spark.jvm.flags>\(.*\)</spark.jvm.flags>.*:\1:p' "$ROOT/pom.xml")
DUCKDB_JAR=$(find "$HOME/.m2/repository/org/duckdb/duckdb_jdbc" -name 'duckdb_jdbc-*.jar' | sort | tail -1)
[ -n "$DUCKDB_JAR" ] || (cd "$ROOT" && mvn -B -q dependency:resolve -pl tests > /dev/null)
DUCKDB_JAR=$(find "$HOME/.m2/repository/org/duckdb/duckdb_jdbc" -name 'duckdb_jdbc-*.jar' | sort | tail -1)

settle() {
  sync
}

base_cat() {
  settle
  /usr/bin/time -f "%e %M" -o "$DIR/time.txt" cat "$@" > /dev/null
  cat "$DIR/time.txt"
}

base_duckdb() {
  settle
  /usr/bin/time -f "%M" -o "$DIR/time.txt" java -cp "$DUCKDB_JAR" "$ROOT/bin/bench-lib/DuckDbRead.java" "$1" "$(nproc)" \
    > "$DIR/duck.txt" 2> "$DIR/duck.err" || { cat "$DIR/duck.err" >&2; return 1; }
  echo "$(cut -d' ' -f1 "$DIR/duck.txt") $(cat "$DIR/time.txt")"
}

base_spark() {
  settle
  /usr/bin/time -f "%M" -o "$DIR/time.txt" java -Xmx4g $BENCH_FLAGS -Dlog4j2.configurationFile="$ROOT/conf/log4j2.properties" \
    -cp "$(cat "$ROOT/jobs/target/launcher-classpath.txt")" "$ROOT/bin/bench-lib/SparkFloor.java" "$1" "local[$2]" \
    > "$DIR/spark.txt" 2> "$DIR/spark.err" || { cat "$DIR/spark.err" >&2; return 1; }
  echo "$(tail -1 "$DIR/spark.txt" | cut -d' ' -f1) $(cat "$DIR/time.txt")"
}

base_llama() {
  local t0 t1
  settle
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$DIR/time.txt" env NIBBLE_THREADS="$(nproc)" "$ROOT/.venv/bin/python" "$ROOT/bin/llama-cpp-referee" \
    quantize "$1" "$2" Q4_0 > "$DIR/llama.out" 2>&1 || { tail -5 "$DIR/llama.out" >&2; return 1; }
  t1=$(date +%s.%N)
  echo "$(echo "$t1 - $t0" | bc) $(cat "$DIR/time.txt")"
}

# The F32 GGUF of a dense table (nibble export, once), for base_llama.
f32_gguf() { # table gguf
  [ -f "$2" ] || NIBBLE_JAVA_OPTS="-Dspark.master=local[2]" "$ROOT/bin/nibble" export --input "$1" --output "$2" > /dev/null 2> "$DIR/export.err" \
    || { tail -5 "$DIR/export.err" >&2; return 1; }
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
