/*
 * Prints Kafka's broker error table as a JSON array, one object per
 * org.apache.kafka.common.protocol.Errors constant: code, name, retriable, invalidMetadata,
 * coordinatorMoved, message, exception.
 * tools/codegen/errors.ts compiles this against the pinned kafka-clients jar, runs it, and
 * turns the output into src/protocol/error-table.ts. Only ASCII is printed (anything else is
 * escaped as \\uXXXX) so the output does not depend on the JVM's default charset.
 */
import org.apache.kafka.common.errors.ApiException;
import org.apache.kafka.common.errors.CoordinatorNotAvailableException;
import org.apache.kafka.common.errors.InvalidMetadataException;
import org.apache.kafka.common.errors.NotCoordinatorException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.protocol.Errors;

public final class ErrorTable {
    public static void main(String[] args) {
        StringBuilder out = new StringBuilder("[\n");
        Errors[] all = Errors.values();
        for (int i = 0; i < all.length; i++) {
            Errors error = all[i];
            ApiException exception = error.exception();
            // NONE is the only constant without an exception; it is neither an error nor retriable.
            boolean retriable = exception instanceof RetriableException;
            // Java's clients refresh metadata (and re-route) on every InvalidMetadataException.
            boolean invalidMetadata = exception instanceof InvalidMetadataException;
            // ...and forget the coordinator on these two (there is no common superclass: the
            // group and transaction managers test for exactly these).
            boolean coordinatorMoved =
                exception instanceof NotCoordinatorException || exception instanceof CoordinatorNotAvailableException;
            // Errors.message() is the exception's message, or the enum name for NONE: for NONE
            // that says nothing, so NONE gets no message.
            String message = exception == null ? "" : error.message();
            String exceptionName = exception == null ? "" : exception.getClass().getSimpleName();
            out.append("  {\"code\":").append(error.code())
                .append(",\"name\":").append(quote(error.name()))
                .append(",\"retriable\":").append(retriable)
                .append(",\"invalidMetadata\":").append(invalidMetadata)
                .append(",\"coordinatorMoved\":").append(coordinatorMoved)
                .append(",\"message\":").append(quote(message == null ? "" : message))
                .append(",\"exception\":").append(quote(exceptionName))
                .append('}')
                .append(i + 1 < all.length ? ",\n" : "\n");
        }
        out.append("]\n");
        System.out.print(out);
        System.out.flush();
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20 || c > 0x7e) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }
}
