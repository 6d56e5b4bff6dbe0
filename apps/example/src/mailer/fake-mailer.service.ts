import { Injectable, Logger } from '@nestjs/common';
import { Mail, Mailer } from './mailer';

/** A sent mail as `FakeMailer` remembers it. */
export interface SentMail extends Mail {
  sentAt: Date;
}

/** A fake mailer: it sends nothing, logs each mail and keeps it in memory (`sent`) for tests and demos. */
@Injectable()
export class FakeMailer extends Mailer {
  readonly sent: SentMail[] = [];
  private readonly logger = new Logger('FakeMailer');

  send(mail: Mail): Promise<void> {
    this.sent.push({ ...mail, sentAt: new Date() });
    this.logger.log(`"Sent" mail to ${mail.to}: ${mail.subject}`);
    return Promise.resolve();
  }
}
