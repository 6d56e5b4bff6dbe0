import { Module } from '@nestjs/common';
import { FakeMailer } from './fake-mailer.service';
import { Mailer } from './mailer';

@Module({
  providers: [FakeMailer, { provide: Mailer, useExisting: FakeMailer }],
  exports: [Mailer],
})
export class MailerModule {}
