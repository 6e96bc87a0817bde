// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
// Reference side of the .hgrm compatibility test: records the values of a
// file (one per line) into HdrHistogram's own Java Histogram (1 .. 1 hour,
// S significant figures) and prints its percentile distribution with 5
// ticks per half distance and a value scaling ratio of 1, as odpt does.
import java.io.BufferedReader;
import java.io.FileReader;
import org.HdrHistogram.Histogram;

public class HgrmDump {
	public static void main(String[] args) throws Exception {
		Histogram h = new Histogram(1, 3600000000000L, Integer.parseInt(args[1]));
		try (BufferedReader in = new BufferedReader(new FileReader(args[0]))) {
			String line;
			while ((line = in.readLine()) != null)
				if (!line.isEmpty())
					h.recordValue(Long.parseLong(line.trim()));
		}
		h.outputPercentileDistribution(System.out, 5, 1.0);
	}
}
