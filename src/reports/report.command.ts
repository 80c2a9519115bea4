import { writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { type CommonOptions, withCommonOptions, withServices } from '../cli/common.js';
import type { Format } from './report.service.js';

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** keepwarm report INCIDENT [--format md|html|pdf] [--executive] [--out FILE] */
export function registerReportCommand(program: Command, io: Io): void {
  withCommonOptions(program.command('report'))
    .description("write an incident's report (generated from its timeline and figures, with what the team wrote)")
    .argument('<incident>', 'the incident id')
    .addOption(new Option('--format <format>', 'output format').choices(['md', 'html', 'pdf']).default('md'))
    .option('--executive', 'the one-page executive summary instead of the full report')
    .option('--out <file>', 'write to this file instead of standard output')
    .action(async (incident: string, o: CommonOptions & { format: Format; executive?: boolean; out?: string }) => {
      const rendered = await withServices(o, (s) => s.reports.render(incident, o.format, o.executive ? 'executive' : 'full'));
      const bytes = typeof rendered.body === 'string' ? Buffer.from(rendered.body) : rendered.body;
      if (o.out) {
        writeFileSync(o.out, bytes);
        io.stdout.write(`wrote ${o.out} (${o.format}${o.executive ? ', executive summary' : ''}, ${bytes.length} bytes)\n`);
      } else {
        io.stdout.write(bytes);
      }
    });
}
