// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
// Reference side of the .hgrm compatibility test: for each (VALUES SIG OUT)
// triple of arguments, records the values of VALUES (one per line) into
// HdrHistogram's own Java Histogram (1 .. 1 hour, SIG significant figures)
// and writes its percentile distribution to OUT, with 5 ticks per half
// distance and a value scaling ratio of 1, as odpt does. One JVM for all.
import java.io.BufferedReader;
import java.io.FileOutputStream;
import java.io.FileReader;
import java.io.PrintStream;
import org.HdrHistogram.Histogram;

public class HgrmDump {
	public static void main(String[] args) throws Exception {
		for (int i = 0; i + 2 < args.length; i += 3) {
			Histogram h = new Histogram(1, 3600000000000L, Integer.parseInt(args[i + 1]));
			try (BufferedReader in = new BufferedReader(new FileReader(args[i]))) {
				String line;
				while ((line = in.readLine()) != null)
					if (!line.isEmpty())
						h.recordValue(Long.parseLong(line.trim()));
			}
			try (PrintStream out = new PrintStream(new FileOutputStream(args[i + 2]), false, "UTF-8")) {
				h.outputPercentileDistribution(out, 5, 1.0);
			}
		}
	}
}
