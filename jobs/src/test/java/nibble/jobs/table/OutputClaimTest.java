package nibble.jobs.table;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import nibble.common.InvalidInputException;
import nibble.common.json.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The output claim on the real local file system (no Spark): exclusive, released, stale claims replaced. */
class OutputClaimTest {
    @TempDir
    Path tmp;

    private final Configuration conf = new Configuration();

    private FileSystem fs() throws Exception {
        return FileSystem.getLocal(conf);
    }

    private org.apache.hadoop.fs.Path out() {
        return new org.apache.hadoop.fs.Path(tmp.resolve("out").toUri());
    }

    private Path claimFile() {
        return tmp.resolve(".out.nibble-claim");
    }

    @Test
    void oneHolderAtATimeAndTheLoserIsToldWho() throws Exception {
        try (OutputClaim first = OutputClaim.acquire(fs(), out(), conf)) {
            assertTrue(Files.isRegularFile(claimFile()));
            assertTrue(first.held());
            byte[] before = Files.readAllBytes(claimFile());
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> OutputClaim.acquire(fs(), out(), conf));
            assertTrue(e.getMessage().contains("out: another Nibble run is writing here (claimed by "), e.getMessage());
            assertTrue(e.getMessage().contains("pid " + ProcessHandle.current().pid()), e.getMessage());
            assertTrue(e.getMessage().contains("run " + first.run()), e.getMessage());
            assertTrue(e.getMessage().contains("delete " + "file:" + claimFile()), e.getMessage());
            assertArrayEquals(before, Files.readAllBytes(claimFile()), "the loser leaves the claim alone");
            assertTrue(first.held());
        }
        assertFalse(Files.exists(claimFile()), "released on close");
        try (OutputClaim again = OutputClaim.acquire(fs(), out(), conf)) {
            assertTrue(again.held());
        }
    }

    @Test
    void eachRunHasItsOwnTemporaryFolderAndClearsOnlyDeadOnes() throws Exception {
        Files.createDirectories(tmp.resolve(".out.nibble-tmp/tensors"));          // from a Nibble before claims
        Files.createDirectories(tmp.resolve(".out.nibble-tmp-deadbeef/tensors")); // from a run that crashed
        Files.createDirectories(tmp.resolve(".out2.nibble-tmp-cafe"));             // another output's
        Files.write(tmp.resolve(".out.nibble-claim-feed"), new byte[] {'{'});      // a run killed before its claim was made
        try (OutputClaim a = OutputClaim.acquire(fs(), out(), conf)) {
            org.apache.hadoop.fs.Path mine = a.tempSibling();
            assertEquals(".out.nibble-tmp-" + a.run(), mine.getName());
            fs().mkdirs(mine);
            a.clearStaleTemps();
            assertTrue(Files.isDirectory(tmp.resolve(mine.getName())), "its own temporary folder stays");
            assertFalse(Files.exists(tmp.resolve(".out.nibble-tmp")));
            assertFalse(Files.exists(tmp.resolve(".out.nibble-tmp-deadbeef")));
            assertFalse(Files.exists(tmp.resolve(".out.nibble-claim-feed")));
            assertTrue(Files.exists(tmp.resolve(".out2.nibble-tmp-cafe")), "another output's temporary folder stays");
        }
        try (OutputClaim b = OutputClaim.acquire(fs(), out(), conf)) {
            assertNotEquals(".out.nibble-tmp-deadbeef", b.tempSibling().getName());
        }
    }

    @Test
    void aClaimNotRefreshedForTheStaleTimeIsReplaced() throws Exception {
        Files.write(claimFile(), claim("other-host", 4242, "oldrun"));
        Files.setLastModifiedTime(claimFile(), FileTime.fromMillis(System.currentTimeMillis() - TimeUnit.MINUTES.toMillis(11)));
        try (OutputClaim c = OutputClaim.acquire(fs(), out(), conf)) {
            assertTrue(c.held());
            assertTrue(new String(Files.readAllBytes(claimFile()), StandardCharsets.UTF_8).contains(c.run()));
        }
        // the same claim, fresh: it stands, whatever --overwrite says (the claim knows nothing of it)
        Files.write(claimFile(), claim("other-host", 4242, "liverun"));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> OutputClaim.acquire(fs(), out(), conf));
        assertTrue(e.getMessage().contains("root@other-host pid 4242 at 2020-01-01T00:00:00Z, run liverun"), e.getMessage());
        // a shorter stale time, as a Hadoop setting
        Files.setLastModifiedTime(claimFile(), FileTime.fromMillis(System.currentTimeMillis() - TimeUnit.MINUTES.toMillis(2)));
        conf.setLong(OutputClaim.STALE_MINUTES_KEY, 1);
        try (OutputClaim c = OutputClaim.acquire(fs(), out(), conf)) {
            assertTrue(c.held());
        }
    }

    @Test
    void aClaimOfAProcessOnThisHostThatIsGoneIsReplaced() throws Exception {
        Process p = new ProcessBuilder("true").start();
        assertEquals(0, p.waitFor());
        long deadPid = p.pid();
        OutputClaim probe = OutputClaim.acquire(fs(), out(), conf);
        String mine = Files.readString(claimFile());
        probe.close();
        // the claim this host and pid namespace would write, but for a process that has exited
        String host = Json.parseObject(mine.getBytes(StandardCharsets.UTF_8), "claim").get("host").asText();
        Files.writeString(claimFile(), mine.replaceAll("\"pid\"\\s*:\\s*\\d+", "\"pid\":" + deadPid).replaceAll("\"run\"\\s*:\\s*\"\\w+\"", "\"run\":\"crashed\""));
        assertTrue(Files.readString(claimFile()).contains(host));
        try (OutputClaim c = OutputClaim.acquire(fs(), out(), conf)) {
            assertTrue(c.held());
        }
        // this process's claim for a run that has ended (its release failed: the store was down) is stale too;
        // one of its live runs' claims is not (oneHolderAtATimeAndTheLoserIsToldWho)
        Files.writeString(claimFile(), mine.replaceAll("\"run\"\\s*:\\s*\"\\w+\"", "\"run\":\"ended\""));
        try (OutputClaim c = OutputClaim.acquire(fs(), out(), conf)) {
            assertTrue(c.held());
        }
    }

    @Test
    void theClaimAppearsWholeAndNothingElseIsLeft() throws Exception {
        try (OutputClaim c = OutputClaim.acquire(fs(), out(), conf)) {
            // made by linking a fully written record, so a kill never leaves an empty claim (KillNineTest)
            assertEquals(List.of(claimFile()), entries());
            assertEquals(c.run(), Json.parseObject(Files.readAllBytes(claimFile()), "claim").get("run").asText());
            // a loser's pending record is gone too
            assertThrows(InvalidInputException.class, () -> OutputClaim.acquire(fs(), out(), conf));
            assertEquals(List.of(claimFile()), entries());
        }
    }

    @Test
    void noReaderEverSeesAClaimWithoutItsRecord() throws Exception {
        Path probe = Files.writeString(tmp.resolve("probe"), "x");
        try {
            Files.createLink(tmp.resolve("probe-link"), probe);
        } catch (UnsupportedOperationException | java.io.IOException noLinks) {
            org.junit.jupiter.api.Assumptions.abort("no hard links in " + tmp + ": claims are created in place there");
        }
        Files.delete(tmp.resolve("probe-link"));
        Files.delete(probe);
        // what a run killed at any instant leaves behind is what a reader can see at that instant
        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger seen = new AtomicInteger();
        AtomicReference<String> bad = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            while (!done.get() && bad.get() == null) {
                try {
                    byte[] b = Files.readAllBytes(claimFile());
                    seen.incrementAndGet();
                    Json.parseObject(b, "claim");
                } catch (java.nio.file.NoSuchFileException absent) {
                    // between runs
                } catch (Exception e) {
                    bad.set(e.getMessage());
                }
            }
        });
        reader.start();
        for (int i = 0; i < 1000 && bad.get() == null; i++) {
            OutputClaim.acquire(fs(), out(), conf).close();
        }
        done.set(true);
        reader.join();
        assertEquals(null, bad.get(), "a claim read while it was being made (" + seen.get() + " reads)");
        assertTrue(seen.get() > 0);
    }

    @Test
    void anUnreadableFreshClaimStandsAndALostClaimIsNeverCommittedOver() throws Exception {
        Files.write(claimFile(), new byte[0]); // a run that died while writing its claim
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> OutputClaim.acquire(fs(), out(), conf));
        assertTrue(e.getMessage().contains("an unknown run"), e.getMessage());
        Files.delete(claimFile());

        OutputClaim c = OutputClaim.acquire(fs(), out(), conf);
        c.requireHeld();
        Files.write(claimFile(), claim("other-host", 1, "thief")); // replaced by a run that thought it stale
        assertFalse(c.held());
        IllegalStateException lost = assertThrows(IllegalStateException.class, c::requireHeld);
        assertTrue(lost.getMessage().contains("lost its claim"), lost.getMessage());
        c.close();
        assertTrue(Files.exists(claimFile()), "closing does not delete another run's claim");
    }

    @Test
    void theRootCannotBeClaimed() {
        assertThrows(InvalidInputException.class, () -> OutputClaim.acquire(fs(), new org.apache.hadoop.fs.Path("file:/"), conf));
    }

    private List<Path> entries() throws Exception {
        try (var all = Files.list(tmp)) {
            return all.toList();
        }
    }

    private static byte[] claim(String host, long pid, String run) {
        return ("{\"format\":\"nibble-claim\",\"run\":\"" + run + "\",\"host\":\"" + host + "\",\"pid\":" + pid
                + ",\"pid_namespace\":null,\"user\":\"root\",\"started\":\"2020-01-01T00:00:00Z\",\"output\":\"x\"}")
                .getBytes(StandardCharsets.UTF_8);
    }

}
