package io.quarkiverse.leader.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkiverse.leader.DeadLetter;
import io.quarkiverse.leader.LeaderInfo;
import io.quarkiverse.leader.LeadershipChanged;
import io.quarkiverse.leader.OnLeaderNotification;
import io.vertx.core.json.JsonObject;

/**
 * Reads the reflection configuration that the native build steps wrote for the sample application
 * ({@code ./mvnw verify -Pnative-sources}: no GraalVM needed) and checks that everything the extension reads or writes by
 * reflection at run time is registered: the payload types of every {@code @OnLeaderNotification} method found in the
 * sample's classes, the types those payloads hold, and the extension's value types. A payload type added to the
 * sample is checked without touching this test.
 */
class NativeRegistrationsIT {

    /** The packages of the classes that only this extension registers: the sample's and the extension's own. */
    private static final Set<String> OWN_PACKAGES = Set.of("io.quarkiverse.leader.it", "io.quarkiverse.leader");

    private static Map<String, JsonNode> registered;

    @BeforeAll
    static void readReflectionConfig() throws IOException {
        Path runner = runnerJar();
        try (JarFile jar = new JarFile(runner.toFile())) {
            var entry = jar.getJarEntry("META-INF/native-image/reflect-config.json");
            assertThat(entry).as("reflect-config.json in " + runner).isNotNull();
            try (InputStream in = jar.getInputStream(entry)) {
                registered = new TreeMap<>();
                for (JsonNode registration : new ObjectMapper().readTree(in)) {
                    registered.put(registration.path("name").asText(), registration);
                }
            }
        }
    }

    @Test
    void payloadTypesOfEveryNotificationMethodAreRegistered() throws Exception {
        Set<Class<?>> payloads = payloadTypes(notificationMethods());
        assertThat(payloads).as("the sample's payload types").contains(Event.class, Shipment.class);
        Set<Class<?>> needed = new LinkedHashSet<>();
        payloads.forEach(type -> collect(type, needed));
        assertThat(needed).as("a payload's nested records").contains(Shipment.Address.class, Shipment.Parcel.class);
        assertRegistered(needed);
    }

    @Test
    void extensionValueTypesAreRegistered() {
        assertRegistered(List.of(LeaderInfo.class, LeadershipChanged.class, DeadLetter.class));
    }

    private static void assertRegistered(Iterable<Class<?>> types) {
        List<String> missing = new ArrayList<>();
        for (Class<?> type : types) {
            JsonNode registration = registered.get(type.getName());
            if (registration == null || !registration.path("allDeclaredConstructors").asBoolean()
                    || !registration.path("allDeclaredMethods").asBoolean()
                    || !registration.path("allDeclaredFields").asBoolean()) {
                missing.add(type.getName() + " (registered as " + registration + ")");
            }
        }
        assertThat(missing).as("classes without constructors, methods and fields registered for reflection").isEmpty();
    }

    /** The sample's {@code @OnLeaderNotification} methods, found in its compiled classes. */
    private static List<Method> notificationMethods() throws IOException {
        Path classes = Path.of(System.getProperty("build.directory"), "classes");
        List<Method> methods = new ArrayList<>();
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".class"))::iterator) {
                String name = classes.relativize(file).toString().replace('/', '.').replaceAll("\\.class$", "");
                Class<?> type;
                try {
                    type = Class.forName(name, false, NativeRegistrationsIT.class.getClassLoader());
                } catch (ClassNotFoundException | LinkageError e) {
                    continue; // generated or optional: no handler there
                }
                for (Method method : type.getDeclaredMethods()) {
                    if (method.isAnnotationPresent(OnLeaderNotification.class)) {
                        methods.add(method);
                    }
                }
            }
        }
        assertThat(methods).as("@OnLeaderNotification methods in " + classes).isNotEmpty();
        return methods;
    }

    /** What each method reads its payload into (its first parameter), where Jackson binds to a class of its own. */
    private static Set<Class<?>> payloadTypes(List<Method> methods) {
        Set<Class<?>> types = new TreeSet<>((a, b) -> a.getName().compareTo(b.getName()));
        for (Method method : methods) {
            if (method.getParameterCount() > 0) {
                raw(method.getGenericParameterTypes()[0], types);
            }
        }
        types.removeIf(type -> type == String.class || type == JsonNode.class || type == JsonObject.class
                || !OWN_PACKAGES.contains(type.getPackageName()));
        return types;
    }

    /** The payload type and the application's types it holds, through record components and fields. */
    private static void collect(Class<?> type, Set<Class<?>> needed) {
        if (!OWN_PACKAGES.contains(type.getPackageName()) || type.isEnum() || !needed.add(type)) {
            return;
        }
        Set<Class<?>> held = new LinkedHashSet<>();
        if (type.isRecord()) {
            for (RecordComponent component : type.getRecordComponents()) {
                raw(component.getGenericType(), held);
            }
        }
        for (Field field : type.getDeclaredFields()) {
            raw(field.getGenericType(), held);
        }
        held.forEach(h -> collect(h, needed));
    }

    private static void raw(Type type, Set<Class<?>> into) {
        if (type instanceof Class<?> c) {
            into.add(c.isArray() ? c.getComponentType() : c);
        } else if (type instanceof ParameterizedType p) {
            raw(p.getRawType(), into);
            for (Type argument : p.getActualTypeArguments()) {
                raw(argument, into);
            }
        } else if (type instanceof GenericArrayType a) {
            raw(a.getGenericComponentType(), into);
        }
    }

    /** The runner jar of the native image's sources that {@code -Dquarkus.native.sources-only=true} wrote. */
    private static Path runnerJar() throws IOException {
        Path target = Path.of(System.getProperty("build.directory"));
        try (Stream<Path> found = Files.find(target, 2, (path, attributes) -> path.getFileName().toString()
                .endsWith("-runner.jar")
                && path.getParent().getFileName().toString().matches(
                        "native-sources|.*-native-image-source-jar"))) {
            return found.findFirst().orElseThrow(() -> new AssertionError("no native sources under " + target
                    + ": run ./mvnw verify -Pnative-sources (quarkus.native.sources-only=true)"));
        }
    }
}
