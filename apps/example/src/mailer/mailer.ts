/** An email to send. */
export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/**
 * Sends email. Inject this abstract class; the app binds it to `FakeMailer`. A real app would bind an
 * SMTP or API-backed implementation instead.
 */
export abstract class Mailer {
  abstract send(mail: Mail): Promise<void>;
}
